/**
 * Server-side HTML with auto-escaping. Everything interpolated into an `html` template is escaped
 * (`& < > " '`), so an organization named `<script>…` is text, in element content and in quoted
 * attribute values alike. Only `SafeHtml` (the result of `html` itself) is inserted as is. Arrays
 * are concatenated (each item escaped unless SafeHtml); `null`, `undefined` and `false` render
 * nothing, so `${cond && html`…`}` works.
 *
 * Rules for templates: always quote attribute values; never interpolate into `<script>`, `<style>`,
 * event-handler attributes or `javascript:` URLs (the CSP forbids inline script anyway); build
 * URLs from ids with `encodeURIComponent` (`path` below).
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text as HTML (element content or a quoted attribute value). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** The tagged template: `html\`<p>${name}</p>\`` escapes `name`. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as Interpolated) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/** A dashboard URL from segments, each percent-encoded: `path("organizations", id)` → `/dashboard/organizations/org_…`. */
export function path(...segments: string[]): string {
  return `/dashboard/${segments.map(encodeURIComponent).join("/")}`;
}
