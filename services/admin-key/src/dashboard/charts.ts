import { html, type SafeHtml } from "./html.js";

/**
 * Small server-rendered charts (inline SVG, no script, no inline style: colours come from classes
 * in dashboard.css). Each chart is a `<figure>`: the SVG is an image (`role="img"`) named by its
 * `<title>` and described by a one-sentence `<desc>`, the figcaption says the same in words, and the
 * numbers are in a real data table right after it (a `<details>`, open for anyone, read by screen
 * readers as a table).
 */

interface Series {
  /** Legend text. */
  label: string;
  /** CSS class of its bars (`series-1` … `series-4`). */
  cls: string;
}

export interface StackedBarsOptions {
  id: string;
  title: string;
  /** One sentence summarising the data (the SVG's <desc> and the figcaption). */
  description: string;
  /** Category labels (x axis), e.g. dates. */
  labels: string[];
  series: Series[];
  /** values[s][i]: series s at label i. */
  values: number[][];
  /** Header of the table's first column. */
  labelHeader: string;
}

const W = 640;
const H = 180;
const PAD = { top: 10, right: 10, bottom: 28, left: 36 };

/** A stacked bar chart per category (e.g. sign-ins per day by method), with its data table. */
export function stackedBars(o: StackedBarsOptions): SafeHtml {
  const totals = o.labels.map((_, i) => o.series.reduce((sum, _s, si) => sum + (o.values[si]?.[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, o.labels.length);
  const barW = Math.max(2, step * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = o.labels.map((label, i) => {
    let acc = 0;
    const x = PAD.left + i * step + (step - barW) / 2;
    return o.series.map((s, si) => {
      const v = o.values[si]?.[i] ?? 0;
      if (v === 0) return html``;
      const top = y(acc + v);
      const h = y(acc) - top;
      acc += v;
      return html`<rect class="${s.cls}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}"><title>${label}: ${v} ${s.label}</title></rect>`;
    });
  });
  // Every other x label when crowded (dates "MM-DD").
  const every = o.labels.length > 16 ? Math.ceil(o.labels.length / 8) : o.labels.length > 8 ? 2 : 1;
  return html`<figure class="chart" aria-labelledby="${o.id}-caption">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" focusable="false">
<title id="${o.id}-title">${o.title}</title>
<desc id="${o.id}-desc">${o.description}</desc>
<line class="axis" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}"/>
<text class="tick" x="${PAD.left - 6}" y="${PAD.top + 8}" text-anchor="end">${max}</text>
<text class="tick" x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">0</text>
${bars}
${o.labels.map((label, i) =>
  i % every === 0
    ? html`<text class="tick" x="${(PAD.left + i * step + step / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">${label.slice(5)}</text>`
    : "",
)}
</svg>
<figcaption id="${o.id}-caption"><strong>${o.title}.</strong> ${o.description}
<span class="legend">${o.series.map((s) => html`<span class="legend-item"><span class="swatch ${s.cls}" aria-hidden="true"></span>${s.label}</span>`)}</span></figcaption>
</figure>
<details class="chart-data">
<summary>${o.title}: the numbers</summary>
<table>
<caption class="visually-hidden">${o.title}</caption>
<thead><tr><th scope="col">${o.labelHeader}</th>${o.series.map((s) => html`<th scope="col">${s.label}</th>`)}<th scope="col">Total</th></tr></thead>
<tbody>
${o.labels.map(
  (label, i) =>
    html`<tr><th scope="row">${label}</th>${o.series.map((_s, si) => html`<td>${o.values[si]?.[i] ?? 0}</td>`)}<td>${totals[i]}</td></tr>`,
)}
</tbody>
</table>
</details>`;
}

/** A proportion as a horizontal bar (e.g. passkey adoption, delivery success rate), with its numbers in words. */
export function ratioBar(o: { id: string; title: string; part: number; whole: number; partLabel: string; wholeLabel: string }): SafeHtml {
  const ratio = o.whole > 0 ? o.part / o.whole : null;
  const pct = ratio === null ? "no data" : `${(ratio * 100).toFixed(1)}%`;
  const words = ratio === null ? `No ${o.wholeLabel} yet.` : `${pct}: ${o.part} of ${o.whole} ${o.wholeLabel} ${o.partLabel}.`;
  const w = 300;
  return html`<figure class="chart ratio" aria-labelledby="${o.id}-caption">
<svg viewBox="0 0 ${w} 24" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" focusable="false">
<title id="${o.id}-title">${o.title}</title>
<desc id="${o.id}-desc">${words}</desc>
<rect class="track" x="0" y="4" width="${w}" height="16" rx="3"/>
${ratio !== null && ratio > 0 ? html`<rect class="series-1" x="0" y="4" width="${Math.max(2, ratio * w).toFixed(1)}" height="16" rx="3"/>` : ""}
</svg>
<figcaption id="${o.id}-caption"><strong>${o.title}: ${pct}.</strong> ${words}</figcaption>
</figure>`;
}
