import type { JsonSchema, OpenApiDocument, OpenApiOperation } from "./openapi-document.js";

/**
 * The `/docs` page: the OpenAPI document rendered on the server as one self-contained HTML page
 * (inline CSS, no script, no font or CDN), so it works offline and under helmet's default CSP.
 * Operations are grouped by tag; each shows its auth, rate limits, parameters, request body and
 * responses (schemas as field trees, error codes per status), and the raw document is linked.
 */
export function renderDocsHtml(doc: OpenApiDocument, opts: { documentUrl?: string } = {}): string {
  const groups = new Map<string, Array<{ method: string; path: string; op: OpenApiOperation }>>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags?.[0] ?? "Other";
      const list = groups.get(tag) ?? [];
      list.push({ method, path, op });
      groups.set(tag, list);
    }
  }
  const tagOrder = [...(doc.tags ?? []).map((t) => t.name), ...groups.keys()].filter((t, i, all) => groups.has(t) && all.indexOf(t) === i);
  const nav = tagOrder
    .map(
      (tag) =>
        `<li><a href="#${anchor(`tag-${tag}`)}">${esc(tag)}</a><ul>${(groups.get(tag) ?? [])
          .map(
            ({ method, path, op }) =>
              `<li><a href="#${anchor(op.operationId)}"><span class="m m-${method}">${method.toUpperCase()}</span> ${esc(path)}</a></li>`,
          )
          .join("")}</ul></li>`,
    )
    .join("");
  const sections = tagOrder
    .map((tag) => {
      const description = doc.tags?.find((t) => t.name === tag)?.description;
      return `<section id="${anchor(`tag-${tag}`)}"><h2>${esc(tag)}</h2>${description ? `<p>${esc(description)}</p>` : ""}${(
        groups.get(tag) ?? []
      )
        .map(({ method, path, op }) => operationHtml(doc, method, path, op))
        .join("")}</section>`;
    })
    .join("");
  const schemes = Object.entries(doc.components.securitySchemes)
    .map(([name, s]) => `<dt>${esc(name)}</dt><dd>${esc(schemeText(s))}${s.description ? ` — ${esc(s.description)}` : ""}</dd>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)} — API reference</title>
<style>${CSS}</style></head>
<body><nav><h1>${esc(doc.info.title)}</h1><p class="version">version ${esc(doc.info.version)} · OpenAPI ${esc(doc.openapi)}</p>
<p><a href="${esc(opts.documentUrl ?? "/openapi.json")}">openapi.json</a></p><ul>${nav}</ul></nav>
<main>${doc.info.description ? `<p class="intro">${esc(doc.info.description)}</p>` : ""}
${schemes ? `<section id="auth"><h2>Authentication</h2><dl>${schemes}</dl></section>` : ""}
${sections}</main></body></html>`;
}

function operationHtml(doc: OpenApiDocument, method: string, path: string, op: OpenApiOperation): string {
  const security = op.security.flatMap((s) => Object.keys(s));
  const auth = security.length
    ? security.map((name) => `${esc(name)} (${esc(schemeText(doc.components.securitySchemes[name]))})`).join(" or ")
    : "none";
  const limits = op["x-rate-limits"]?.length
    ? `<p><b>Rate limits:</b></p><ul>${op["x-rate-limits"].map((l) => `<li><code>${esc(l.name)}</code>: ${esc(l.description)}</li>`).join("")}</ul>`
    : "";
  const params = op.parameters?.length
    ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th></th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ""}</td><td>${p.in}</td><td>${esc(typeText(p.schema))}</td><td>${esc(p.description ?? String(p.schema.description ?? ""))}</td></tr>`,
        )
        .join("")}</table>`
    : "";
  const body = op.requestBody
    ? `<h4>Request body <span class="ct">${esc(Object.keys(op.requestBody.content).join(", "))}</span></h4>${Object.values(
        op.requestBody.content,
      )
        .map((c) => schemaHtml(c.schema))
        .join("")}`
    : "";
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const content = Object.entries(r.content ?? {})
        .map(([ct, c]) => `<details><summary><span class="ct">${esc(ct)}</span></summary>${schemaHtml(c.schema)}</details>`)
        .join("");
      return `<div class="resp"><span class="st st-${status[0]}">${esc(status)}</span> ${esc(r.description)}${content}</div>`;
    })
    .join("");
  return `<article id="${anchor(op.operationId)}"><h3><span class="m m-${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p class="summary">${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}
<p><b>Auth:</b> ${auth}</p>${limits}${params}${body}<h4>Responses</h4>${responses}</article>`;
}

function schemeText(s: OpenApiDocument["components"]["securitySchemes"][string] | undefined): string {
  if (!s) return "";
  if (s.type === "http") return `HTTP ${s.scheme ?? ""}${s.bearerFormat ? ` (${s.bearerFormat})` : ""}`;
  return `API key in ${s.in ?? "header"} ${s.name ?? ""}`;
}

/** A short type label: `string`, `integer`, `array of object`, `"a" | "b"`, `string | null`. */
function typeText(s: JsonSchema | undefined): string {
  if (!s || Object.keys(s).length === 0) return "any";
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if ("const" in s) return JSON.stringify(s.const);
  const variants = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (variants) return variants.map(typeText).join(" | ");
  const t = Array.isArray(s.type) ? (s.type as string[]).join(" | ") : (s.type as string | undefined);
  if (t === "array") return `array of ${typeText(s.items as JsonSchema | undefined)}`;
  const constraints: string[] = [];
  if (typeof s.format === "string") constraints.push(s.format);
  if (typeof s.pattern === "string") constraints.push(`pattern ${s.pattern}`);
  if (typeof s.minLength === "number" && s.minLength > 0) constraints.push(`min ${s.minLength}`);
  if (typeof s.maxLength === "number") constraints.push(`max ${s.maxLength}`);
  return `${t ?? "any"}${constraints.length ? ` (${constraints.join(", ")})` : ""}`;
}

/** A schema as a nested list of fields (object properties and array items), depth-bounded. */
function schemaHtml(s: JsonSchema | undefined, depth = 0): string {
  if (!s) return "";
  if (depth > 6) return `<span class="t">…</span>`;
  const items = s.type === "array" ? (s.items as JsonSchema | undefined) : undefined;
  const objectSchema = items && items.type === "object" ? items : s;
  const props = objectSchema.properties as Record<string, JsonSchema> | undefined;
  const variants = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (!props) {
    // `T | null` (zod's nullish): show T's fields, the type line already says "| null".
    const nonNull = variants?.filter((v) => v.type !== "null");
    if (nonNull?.length === 1 && nonNull[0]) return schemaHtml(nonNull[0], depth);
    if (variants?.some((v) => v.properties)) {
      return `<ul class="schema">${variants.map((v, i) => `<li><span class="t">variant ${i + 1}</span>${schemaHtml(v, depth + 1)}</li>`).join("")}</ul>`;
    }
    return `<p class="t">${esc(typeText(s))}</p>`;
  }
  const required = new Set((objectSchema.required as string[] | undefined) ?? []);
  const rows = Object.entries(props)
    .map(([name, p]) => {
      const nested =
        p.properties ||
        (p.type === "array" && (p.items as JsonSchema | undefined)?.properties) ||
        (p.anyOf as JsonSchema[] | undefined)?.some((v) => v.properties);
      return `<li><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ""} <span class="t">${esc(
        p.properties ? "object" : typeText(p),
      )}</span>${typeof p.description === "string" ? ` — ${esc(p.description)}` : ""}${nested ? schemaHtml(p, depth + 1) : ""}</li>`;
    })
    .join("");
  return `${items ? '<p class="t">array of</p>' : ""}<ul class="schema">${rows}</ul>`;
}

function anchor(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "-");
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:300px;flex:none;background:#f6f8fa;border-right:1px solid #d0d7de;padding:16px;font-size:13px}
nav h1{font-size:18px;margin:0 0 4px}nav ul{list-style:none;padding-left:0;margin:4px 0}nav ul ul{padding-left:8px}nav a{color:#1f2328;text-decoration:none}nav a:hover{text-decoration:underline}
.version{color:#59636e;margin:0}
main{padding:24px 40px;max-width:1000px;flex:1;min-width:0}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
article{border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:16px 0;background:#fff}
h3{margin:0;font-size:16px}h4{margin:12px 0 4px;font-size:14px}.summary{font-weight:600;margin:4px 0}
.m{display:inline-block;min-width:56px;text-align:center;border-radius:4px;color:#fff;font:bold 12px/20px ui-monospace,monospace;padding:0 4px}
.m-get{background:#1f6feb}.m-post{background:#1a7f37}.m-put,.m-patch{background:#9a6700}.m-delete{background:#cf222e}
.st{display:inline-block;min-width:40px;text-align:center;border-radius:4px;font:bold 12px/20px ui-monospace,monospace}
.st-2{background:#dafbe1}.st-4{background:#fff8c5}.st-5{background:#ffebe9}
.resp{margin:4px 0}details{margin:2px 0 6px 48px}summary{cursor:pointer}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:0 3px;border-radius:3px}
.ct{color:#59636e;font:12px ui-monospace,monospace}.t{color:#59636e;font-size:13px;margin:0}.req{color:#cf222e;font-size:11px}
ul.schema{margin:2px 0;padding-left:18px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d0d7de;padding:2px 8px;text-align:left}
.intro{white-space:pre-line}
`;
