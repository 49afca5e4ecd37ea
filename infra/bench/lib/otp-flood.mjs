// otp-flood: OTP requests as fast as consumer-auth accepts them for N seconds, then wait until
// otp-delivery has delivered every accepted one. Deliveries are counted end to end in the dev
// outbox (dev_messages rows of this flood's addresses); the backlog gauges are read from /metrics.
import autocannon from "autocannon";
import { PgClient } from "@authplane/e2e/pg";
import { cpuSnapshot, fmt } from "./measure.mjs";

const GAUGES = ["jetstream_consumer_pending", "jetstream_consumer_ack_pending", "outbox_backlog"];

/** Sum of each backlog gauge over its labels in one Prometheus scrape (NaN when absent). */
async function scrape(url) {
  const out = Object.fromEntries(GAUGES.map((g) => [g, Number.NaN]));
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text();
    for (const line of text.split("\n")) {
      for (const g of GAUGES) {
        if (line.startsWith(`${g}{`) || line.startsWith(`${g} `)) {
          const v = Number(line.slice(line.lastIndexOf(" ") + 1));
          out[g] = (Number.isNaN(out[g]) ? 0 : out[g]) + v;
        }
      }
    }
  } catch {
    // a scrape that times out under load is just a missing sample
  }
  return out;
}

export async function floodOtp(o) {
  const db = new PgClient({ connectionString: o.databaseUrl });
  await db.connect();
  const marker = o.email().replace(/-\d+@.*/, "-");
  const delivered = async () =>
    Number((await db.query(`SELECT count(*)::int AS n FROM "${o.schema}".dev_messages WHERE "to" LIKE $1`, [`${marker}%`])).rows[0].n);
  const peaks = {};
  const sampleGauges = async () => {
    for (const [svc, url] of Object.entries(o.metricsUrls)) {
      const g = await scrape(url);
      for (const [name, v] of Object.entries(g)) {
        if (Number.isNaN(v)) continue;
        const key = `${name} (${svc})`;
        peaks[key] = Math.max(peaks[key] ?? 0, v);
      }
    }
  };
  try {
    // Let earlier flows' deliveries finish first (they would compete with this one).
    const quietBy = Date.now() + 60_000;
    while (Date.now() < quietBy) {
      const g = await scrape(o.metricsUrls["otp-delivery"]);
      if (!(g.jetstream_consumer_pending > 0)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const samples = [];
    let polling = true;
    const t0 = performance.now();
    const cpuBefore = cpuSnapshot(o.procs);
    const poller = (async () => {
      while (polling) {
        const [n] = await Promise.all([delivered(), sampleGauges()]);
        samples.push({ t: (performance.now() - t0) / 1000, n });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const r = await autocannon({
      url: o.url,
      method: "POST",
      headers: o.headers,
      connections: o.connections,
      duration: o.seconds,
      requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: o.email() }) }) }],
    });
    const floodEnd = (performance.now() - t0) / 1000;
    const accepted = r["2xx"];
    const atFloodEnd = await delivered();
    o.log(`  flood over: ${accepted} accepted (${r.non2xx + r.errors} refused/failed), ${atFloodEnd} delivered so far; draining…`);
    // Requests still in flight when autocannon stopped may have been accepted too: the flood is
    // drained when otp-delivery has nothing pending or in hand and the count stopped moving.
    let n = atFloodEnd;
    let lastChange = floodEnd;
    let quietPolls = 0;
    const deadline = performance.now() + 300_000;
    while (performance.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      const now = await delivered();
      if (now !== n) {
        n = now;
        lastChange = (performance.now() - t0) / 1000;
        quietPolls = 0;
        continue;
      }
      const g = await scrape(o.metricsUrls["otp-delivery"]);
      const idle = g.jetstream_consumer_pending === 0 && g.jetstream_consumer_ack_pending === 0;
      if (n >= accepted && idle && ++quietPolls >= 4) break;
    }
    const drainedAt = Math.max(lastChange, floodEnd);
    polling = false;
    await poller;
    await sampleGauges();
    const cpuAfter = cpuSnapshot(o.procs);
    // Peak delivery rate: the best 2-second window of the samples.
    let peak = 0;
    for (let i = 0; i < samples.length; i++)
      for (let j = i + 1; j < samples.length; j++)
        if (samples[j].t - samples[i].t >= 2) {
          peak = Math.max(peak, (samples[j].n - samples[i].n) / (samples[j].t - samples[i].t));
          break;
        }
    const drained = n >= accepted;
    const cpu = Object.entries(cpuAfter)
      .map(([l, v]) => [l, v !== null && cpuBefore[l] !== null && accepted > 0 ? (v - cpuBefore[l]) / accepted : Number.NaN])
      .filter(([, v]) => Number.isFinite(v) && v > 0.0005)
      .map(([l, v]) => `${l} ${fmt(v, 3)}`)
      .join(", ");
    const rows = [
      ["OTP requests accepted (2xx seen by autocannon)", `${fmt(accepted)} (${fmt(r.non2xx + r.errors)} not)`],
      ["delivered in all (incl. requests in flight at the end)", fmt(n)],
      ["accepted/s during the flood", fmt(accepted / r.duration)],
      ["p50 / p99 ms of the requests", `${fmt(r.latency.p50, 0)} / ${fmt(r.latency.p99, 0)}`],
      ["delivered during the flood", `${fmt(atFloodEnd)} (${fmt(atFloodEnd / floodEnd)}/s)`],
      ["peak delivery rate (best 2 s)", `${fmt(peak)}/s`],
      ["delivered/s, flood start → last delivery", fmt(n / drainedAt)],
      [
        "time to drain after the flood",
        drained ? `${fmt(drainedAt - floodEnd, 1)} s` : `not drained after ${fmt(drainedAt - floodEnd, 0)} s (${fmt(n)} delivered)`,
      ],
      ...Object.entries(peaks).map(([k, v]) => [`peak ${k}`, fmt(v)]),
      ["CPU ms per accepted request", cpu],
    ];
    return { rows, drained, accepted, deliveredPerSecond: n / drainedAt };
  } finally {
    await db.end();
  }
}
