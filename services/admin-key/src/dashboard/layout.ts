import { html, path, type SafeHtml } from "./html.js";
import type { DashboardSession } from "./session.js";

/**
 * The one page layout: landmarks (banner, navigation, main, contentinfo), a skip link, the main
 * navigation with `aria-current`, the sign-out form, and a status area for notices. No inline
 * script or style (the CSP forbids both): behaviour lives in /dashboard/assets/dashboard.js,
 * looks in dashboard.css (visible focus included).
 */

interface NavItem {
  /** Shown text. */
  label: string;
  href: string;
  /** Key compared with `PageOptions.nav` to mark the current item. */
  key: string;
  /** Shown to operators only. */
  operatorOnly?: boolean;
}

/** The main navigation. Add an item here for a new top-level page. */
const MAIN_NAV: NavItem[] = [
  { key: "organizations", label: "Organizations", href: path("organizations") },
  { key: "audit", label: "Audit log", href: path("audit") },
];

export interface PageOptions {
  title: string;
  /** The signed-in session (null on the sign-in page). */
  session: DashboardSession | null;
  /** Which MAIN_NAV item is current. */
  nav?: string;
  /** A notice shown at the top of main (role=status), e.g. "Settings saved". */
  notice?: string | null;
  /** An error notice (role=alert). */
  alert?: string | null;
  body: SafeHtml;
}

export function page(opts: PageOptions): SafeHtml {
  const { session } = opts;
  const items = MAIN_NAV.filter((i) => !i.operatorOnly || session?.principal.kind === "operator");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · authplane console</title>
<link rel="stylesheet" href="${path("assets", "dashboard.css")}">
<script src="${path("assets", "dashboard.js")}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
<p class="brand"><a href="${path("")}">authplane console</a></p>
${
  session
    ? html`<nav aria-label="Main">
<ul>
${items.map((i) => html`<li><a href="${i.href}"${i.key === opts.nav ? html` aria-current="page"` : ""}>${i.label}</a></li>`)}
</ul>
</nav>
<form class="sign-out" method="post" action="${path("sign-out")}">
${csrfField(session)}
<span class="who">Signed in as ${session.principal.label}</span>
<button type="submit">Sign out</button>
</form>`
    : ""
}
</header>
<main id="main" tabindex="-1">
<h1>${opts.title}</h1>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ""}
${opts.alert ? html`<p class="alert" role="alert">${opts.alert}</p>` : ""}
${opts.body}
</main>
<footer class="site-footer"><p>authplane · console</p></footer>
</body>
</html>
`;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(session: DashboardSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}">`;
}

/** Field errors by field name (form field name → messages). */
export type FieldErrors = Record<string, string[]>;

export interface FieldOptions {
  /** The form field's `name` (also its id, with the form's prefix). */
  name: string;
  label: string;
  /** Id prefix, unique per form on the page (e.g. "live-"). */
  idPrefix?: string;
  value?: string;
  type?: "text" | "number" | "url" | "email" | "password" | "search";
  hint?: string;
  errors?: FieldErrors;
  required?: boolean;
  autocomplete?: string;
  /** A textarea (one item per line) instead of an input. */
  multiline?: boolean;
  min?: number;
  max?: number;
}

/**
 * A labelled input (or textarea) with its hint and its errors next to it, tied with
 * `aria-describedby`, and `aria-invalid` when it has errors.
 */
export function field(o: FieldOptions): SafeHtml {
  const id = `${o.idPrefix ?? ""}${o.name}`.replace(/[^A-Za-z0-9_-]/g, "-");
  const errors = o.errors?.[o.name] ?? [];
  const describedBy = [o.hint ? `${id}-hint` : "", errors.length ? `${id}-error` : ""].filter(Boolean).join(" ");
  const common = html`id="${id}" name="${o.name}"${describedBy ? html` aria-describedby="${describedBy}"` : ""}${
    errors.length ? html` aria-invalid="true"` : ""
  }${o.required ? html` required` : ""}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ""}`;
  const control = o.multiline
    ? html`<textarea ${common} rows="3">${o.value ?? ""}</textarea>`
    : html`<input ${common} type="${o.type ?? "text"}" value="${o.value ?? ""}"${o.min !== undefined ? html` min="${o.min}"` : ""}${
        o.max !== undefined ? html` max="${o.max}"` : ""
      }>`;
  return html`<div class="field${errors.length ? " has-error" : ""}">
<label for="${id}">${o.label}</label>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ""}
${control}
${errors.length ? html`<p class="field-error" id="${id}-error">${errors.join(" ")}</p>` : ""}
</div>`;
}

/** A date for people (UTC, to the minute) inside a machine-readable <time>. */
export function time(at: Date | string | null | undefined): SafeHtml {
  if (!at) return html`<span class="muted">—</span>`;
  const d = typeof at === "string" ? new Date(at) : at;
  const iso = d.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}
