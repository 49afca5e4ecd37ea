import { type ApiKeyView, KeyKind, type Mode, type OrganizationKeys, RotateApiKeyRequest } from "@authplane/contracts";
import { ValidationError } from "@authplane/service-kit";
import type { Response } from "express";
import { z } from "zod";
import type { AppDeps } from "../../deps.js";
import { pathId } from "../../routes/api.js";
import { createOrganization } from "../../usecases/create-organization.js";
import { searchOrganizations } from "../../usecases/get-organization.js";
import { createApiKey, type IssuedKey, listApiKeys, revokeApiKey, rotateApiKey } from "../../usecases/manage-api-keys.js";
import { type DashboardCaller, changeGuards, dashboardApi, htmlResponses, redirect, sendHtml } from "../api.js";
import { writeAudit } from "../audit.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, type FieldErrors, field, page, time } from "../layout.js";
import { MODES, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";
import { assertOperator, dashboardNotFound, visibleOrganizationIds } from "../principal.js";

/**
 * Organizations (list, search by name or id, create) and each organization's keys, live and test
 * side by side (create, rotate with a chosen grace period, revoke). A new key is shown once, on
 * the answer to the POST that made it (never stored, never in a URL, never cached).
 */

const ListQuery = z.object({
  q: z.string().max(200).optional(),
  before: z.string().max(40).optional(),
});

const CsrfOnly = { _csrf: z.string().max(200).optional() };
const CreateOrganizationForm = z.object({ name: z.string().max(1000).default(""), ...CsrfOnly });
const CreateKeyForm = z.object({ mode: z.enum(["live", "test"]), kind: KeyKind, ...CsrfOnly });
const RotateKeyForm = z.object({ expiresInSeconds: z.string().max(20), ...CsrfOnly });
const RevokeKeyForm = z.object(CsrfOnly);

const OrgParams = z.object({ organizationId: organizationIdParam });
const KeyParams = z.object({
  organizationId: organizationIdParam,
  keyId: pathId(z.string().regex(/^key_[0-9A-HJKMNP-TV-Z]{26}$/), dashboardNotFound, "The key's id (key_…)."),
});

/** Grace periods offered when rotating (seconds → label). The API allows 0 to 30 days. */
const GRACE_PERIODS: Array<[number, string]> = [
  [0, "none (the old key stops at once)"],
  [3600, "1 hour"],
  [86_400, "24 hours"],
  [604_800, "7 days"],
  [2_592_000, "30 days"],
];

/** Fixed notices a redirect may ask for (`?done=`): never text from the URL. */
const DONE: Record<string, string> = { "key-revoked": "The key was revoked." };

const form = { before: changeGuards, bodyContentType: "application/x-www-form-urlencoded" } as const;

function organizationsPage(
  caller: DashboardCaller,
  input: { q?: string; list: Awaited<ReturnType<typeof searchOrganizations>>; createName?: string; createErrors?: FieldErrors },
): SafeHtml {
  const { q, list } = input;
  const isOperator = caller.principal.kind === "operator";
  return page({
    title: "Organizations",
    session: caller.session,
    nav: "organizations",
    body: html`<form class="search" method="get" action="${path("organizations")}" role="search">
${field({ name: "q", label: "Search by name or id", type: "search", value: q ?? "" })}
<button type="submit">Search</button>
</form>
<table>
<caption class="visually-hidden">Organizations${q ? html` matching “${q}”` : ""}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Created</th></tr></thead>
<tbody>
${
  list.organizations.length
    ? list.organizations.map(
        (o) =>
          html`<tr><td><a href="${path("organizations", o.id)}">${o.name}</a></td><td><code>${o.id}</code></td><td>${time(o.createdAt)}</td></tr>`,
      )
    : html`<tr><td colspan="3">No organization${q ? html` matches “${q}”` : ""}.</td></tr>`
}
</tbody>
</table>
${
  list.nextBefore
    ? html`<p><a href="${path("organizations")}?${new URLSearchParams({ ...(q ? { q } : {}), before: list.nextBefore }).toString()}">Older organizations</a></p>`
    : ""
}
${
  isOperator
    ? html`<section aria-labelledby="create-heading">
<h2 id="create-heading">Create an organization</h2>
<form method="post" action="${path("organizations")}">
${csrfField(caller.session)}
${field({ name: "name", label: "Name", value: input.createName ?? "", required: true, errors: input.createErrors, hint: "1 to 200 characters. Settings can be changed afterwards." })}
<button type="submit">Create organization</button>
</form>
</section>`
    : ""
}`,
  });
}

/** One secret shown once, with a copy button (enhanced by dashboard.js). */
function secretBox(id: string, label: string, value: string): SafeHtml {
  return html`<div class="copy-row">
<label for="${id}">${label}</label>
<input id="${id}" type="text" readonly value="${value}" spellcheck="false" autocomplete="off">
<button type="button" class="secondary" data-copy="${id}" hidden>Copy</button>
<span id="${id}-copied" role="status"></span>
</div>`;
}

const ONCE = "Copy it now: this is the only time it is shown. Only its hash is stored; if it is lost, rotate the key.";

function issuedKeyPage(caller: DashboardCaller, orgId: string, orgName: string, issued: IssuedKey, rotated: boolean): SafeHtml {
  const k = issued.key;
  return page({
    title: rotated ? "Key rotated" : "Key created",
    session: caller.session,
    nav: "organizations",
    body: html`<section class="secret" aria-labelledby="secret-heading">
<h2 id="secret-heading">New ${k.mode} ${k.kind} key for ${orgName}</h2>
<p><strong>${ONCE}</strong></p>
${secretBox("new-key", "Key", issued.value)}
${issued.passkeySdkValue ? secretBox("new-key-sdk", "Passkey server SDK form", issued.passkeySdkValue) : ""}
</section>
${
  issued.previous
    ? html`<p>The previous key <code>${issued.previous.display}</code> ${
        issued.previous.expiresAt ? html`keeps working until ${time(issued.previous.expiresAt)}.` : "stopped working."
      }</p>`
    : ""
}
<p><a href="${path("organizations", orgId)}">Back to the organization's keys</a></p>`,
  });
}

function createdOrganizationPage(caller: DashboardCaller, org: { id: string; name: string }, keys: OrganizationKeys): SafeHtml {
  return page({
    title: "Organization created",
    session: caller.session,
    nav: "organizations",
    notice: `Organization “${org.name}” was created.`,
    body: html`<section class="secret" aria-labelledby="secret-heading">
<h2 id="secret-heading">Its keys</h2>
<p><strong>${ONCE}</strong></p>
${MODES.map(
  (m) => html`<h3>${m === "live" ? "Live" : "Test"}</h3>
${secretBox(`pk-${m}`, `Publishable key (${m})`, keys.publishable[m])}
${secretBox(`sk-${m}`, `Secret key (${m})`, keys.secret[m])}
${secretBox(`sdk-${m}`, `Passkey server SDK form (${m})`, keys.passkeySdkSecret[m])}`,
)}
</section>
<p><a href="${path("organizations", org.id)}">Go to the organization</a></p>`,
  });
}

function keyRow(caller: DashboardCaller, orgId: string, k: ApiKeyView): SafeHtml {
  const base = path("organizations", orgId, "keys", k.id);
  const canRotate = k.status === "active";
  const canRevoke = k.status !== "revoked";
  return html`<tr>
<td>${k.kind}</td>
<td><code>${k.prefix}…${k.last4}</code></td>
<td><span class="status-${k.status}">${k.status}</span></td>
<td>${time(k.createdAt)}</td>
<td>${k.revokedAt ? html`revoked ${time(k.revokedAt)}` : time(k.expiresAt)}</td>
<td>
${
  canRotate
    ? html`<form class="inline" method="post" action="${base}/rotate">
${csrfField(caller.session)}
<label for="grace-${k.id}">Old key works for</label>
<select id="grace-${k.id}" name="expiresInSeconds">
${GRACE_PERIODS.map(([s, label]) => html`<option value="${s}"${s === 86_400 ? html` selected` : ""}>${label}</option>`)}
</select>
<button type="submit" class="secondary">Rotate<span class="visually-hidden"> ${k.prefix}…${k.last4}</span></button>
</form>`
    : ""
}
${
  canRevoke
    ? html`<form class="inline" method="post" action="${base}/revoke" data-confirm="Revoke ${k.prefix}…${k.last4}? It stops working at once.">
${csrfField(caller.session)}
<button type="submit" class="danger">Revoke<span class="visually-hidden"> ${k.prefix}…${k.last4}</span></button>
</form>`
    : ""
}
</td>
</tr>`;
}

function keysOfMode(caller: DashboardCaller, orgId: string, mode: Mode, keys: ApiKeyView[]): SafeHtml {
  return html`<section class="mode" aria-labelledby="keys-${mode}">
<h2 id="keys-${mode}">${mode === "live" ? "Live" : "Test"} keys</h2>
<table>
<thead><tr><th scope="col">Kind</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
<tbody>
${keys.length ? keys.map((k) => keyRow(caller, orgId, k)) : html`<tr><td colspan="6">No ${mode} keys.</td></tr>`}
</tbody>
</table>
<form class="inline" method="post" action="${path("organizations", orgId, "keys")}">
${csrfField(caller.session)}
<input type="hidden" name="mode" value="${mode}">
<label for="kind-${mode}">New ${mode} key</label>
<select id="kind-${mode}" name="kind">
<option value="secret">secret</option>
<option value="publishable">publishable</option>
</select>
<button type="submit">Create key</button>
</form>
</section>`;
}

/** The key's scope if it belongs to this organization (else the 404 an unknown key gets). */
async function keyScope(deps: AppDeps, organizationId: string, keyId: string): Promise<{ organizationId: string; mode: Mode }> {
  const row = await deps.prisma.apiKey.findFirst({ where: { id: keyId, organizationId }, select: { mode: true } });
  if (!row) throw dashboardNotFound();
  return { organizationId, mode: row.mode as Mode };
}

function fieldErrorsOf(err: ValidationError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of err.issues) {
    const name = String(issue.path[0] ?? "form");
    out[name] = [...(out[name] ?? []), issue.message];
  }
  return out;
}

async function listPage(deps: AppDeps, caller: DashboardCaller, res: Response, extra: { createName?: string; createErrors?: FieldErrors }) {
  const list = await searchOrganizations(deps, { limit: 50, onlyIds: visibleOrganizationIds(caller.principal) });
  return sendHtml(res, organizationsPage(caller, { list, ...extra }), extra.createErrors ? 400 : 200);
}

export const organizationEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "Organizations: list and search by name or id (an organization admin sees its own)",
    query: ListQuery,
    responses: htmlResponses("The list, and the create form (operator)."),
    handler: async (deps, { caller, query, res }) => {
      const list = await searchOrganizations(deps, {
        q: query.q,
        before: query.before,
        limit: 50,
        onlyIds: visibleOrganizationIds(caller.principal),
      });
      return sendHtml(res, organizationsPage(caller, { q: query.q, list }));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Create an organization (operator): its four keys are shown once",
    body: CreateOrganizationForm,
    responses: htmlResponses("The new organization's keys, shown once."),
    handler: async (deps, { caller, body, res }) => {
      assertOperator(caller.principal);
      let created: Awaited<ReturnType<typeof createOrganization>>;
      try {
        created = await createOrganization(deps, { name: body.name });
      } catch (err) {
        if (err instanceof ValidationError) return listPage(deps, caller, res, { createName: body.name, createErrors: fieldErrorsOf(err) });
        throw err;
      }
      const org = created.organization;
      await writeAudit(deps, caller, {
        organizationId: org.id,
        action: "organization.create",
        target: org.id,
        details: { name: org.name },
      });
      return sendHtml(res, createdOrganizationPage(caller, org, created.keys));
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's keys, live and test side by side",
    params: OrgParams,
    query: z.object({ done: z.string().max(40).optional() }),
    responses: htmlResponses("The keys page."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const keys = await Promise.all(MODES.map((mode) => listApiKeys(deps, { organizationId: org.id, mode })));
      return sendHtml(
        res,
        page({
          title: org.name,
          session: caller.session,
          nav: "organizations",
          notice: (query.done && DONE[query.done]) || null,
          body: html`${orgHeader(org, "keys")}
<div class="modes">
${MODES.map((mode, i) => keysOfMode(caller, org.id, mode, keys[i] ?? []))}
</div>`,
        }),
      );
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/keys",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Create a key (mode and kind from the form): shown once",
    params: OrgParams,
    body: CreateKeyForm,
    responses: htmlResponses("The new key, shown once."),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const issued = await createApiKey(deps, { organizationId: org.id, mode: body.mode, kind: body.kind });
      await writeAudit(deps, caller, {
        organizationId: org.id,
        mode: body.mode,
        action: "key.create",
        target: issued.key.id,
        details: { kind: issued.key.kind, prefix: issued.key.prefix, last4: issued.key.last4 },
      });
      return sendHtml(res, issuedKeyPage(caller, org.id, org.name, issued, false));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/keys/{keyId}/rotate",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Rotate a key: a new key (shown once); the old one works for the chosen grace period",
    params: KeyParams,
    body: RotateKeyForm,
    responses: htmlResponses("The new key, shown once.", {
      409: { description: "The key is revoked, expired or already rotated.", contentType: "text/html" },
    }),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope = await keyScope(deps, org.id, params.keyId);
      const grace = RotateApiKeyRequest.safeParse({
        expiresInSeconds: /^\d+$/.test(body.expiresInSeconds) ? Number(body.expiresInSeconds) : NaN,
      });
      if (!grace.success)
        throw new ValidationError([{ path: ["expiresInSeconds"], message: "must be a whole number of seconds from 0 to 2592000" }]);
      const issued = await rotateApiKey(deps, { ...scope, keyId: params.keyId, expiresInSeconds: grace.data.expiresInSeconds });
      await writeAudit(deps, caller, {
        ...scope,
        action: "key.rotate",
        target: params.keyId,
        details: {
          newKeyId: issued.key.id,
          prefix: issued.key.prefix,
          last4: issued.key.last4,
          expiresInSeconds: grace.data.expiresInSeconds,
          previousExpiresAt: issued.previous?.expiresAt ?? null,
        },
      });
      return sendHtml(res, issuedKeyPage(caller, org.id, org.name, issued, true));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/keys/{keyId}/revoke",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Revoke a key at once",
    params: KeyParams,
    body: RevokeKeyForm,
    responses: htmlResponses("Never: a redirect to the keys page."),
    handler: async (deps, { caller, params, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope = await keyScope(deps, org.id, params.keyId);
      const before = await deps.prisma.apiKey.findFirst({ where: { id: params.keyId }, select: { revokedAt: true } });
      const key = await revokeApiKey(deps, { ...scope, keyId: params.keyId });
      if (!before?.revokedAt)
        await writeAudit(deps, caller, {
          ...scope,
          action: "key.revoke",
          target: key.id,
          details: { kind: key.kind, prefix: key.prefix, last4: key.last4 },
        });
      return redirect(res, `${path("organizations", org.id)}?done=key-revoked`);
    },
  }),
];
