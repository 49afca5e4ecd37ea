import type { AdminConsumer, AdminPasskeyCredential, AdminSession, Mode, OrganizationView } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";
import { z } from "zod";
import type { AppDeps } from "../../deps.js";
import { pathId } from "../../routes/api.js";
import { ServiceCallError } from "../api-client.js";
import { consumerAuth, failureMessage, type Loaded, load, passkeys, type Scope } from "../admin-services.js";
import { type DashboardCaller, changeGuards, dashboardApi, htmlResponses, redirect, sendHtml } from "../api.js";
import { writeAudit } from "../audit.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, field, page, time } from "../layout.js";
import { ModeQuery, modePath, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";
import { dashboardNotFound } from "../principal.js";

/**
 * An organization's consumers, one mode at a time (consumer-auth's Admin API through the gateway):
 * search by id, email or phone; a consumer's sessions (revoke one or all) and its passkeys
 * (webauthn-credential's credentials whose userId is the consumer id: deactivate, reactivate).
 * Every change is audited; a service that fails shows a message in its section, never a crash.
 */

const idParam = (what: string, prefix: string) =>
  pathId(z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), dashboardNotFound, `The ${what}'s id (${prefix}…).`);

const OrgParams = z.object({ organizationId: organizationIdParam });
const ConsumerParams = z.object({ organizationId: organizationIdParam, consumerId: idParam("consumer", "cons_ or guest_") });
const SessionParams = ConsumerParams.extend({ sessionId: idParam("session", "sess_") });
const PasskeyParams = ConsumerParams.extend({ credentialId: idParam("passkey", "ctl_") });

const ListQuery = z.object({
  mode: ModeQuery,
  q: z.string().max(320).optional(),
  cursor: z.string().max(256).optional(),
});
const DetailQuery = z.object({
  mode: ModeQuery,
  done: z.string().max(40).optional(),
  sessionsCursor: z.string().max(256).optional().meta({ description: "`nextCursor` of the sessions' previous page." }),
  passkeysCursor: z.string().max(256).optional().meta({ description: "`nextCursor` of the passkeys' previous page." }),
});
const ActionForm = z.object({ mode: z.enum(["live", "test"]), _csrf: z.string().max(200).optional() });

/** Fixed notices a redirect may ask for (`?done=`): never text from the URL. */
const DONE: Record<string, string> = {
  "session-revoked": "The session was revoked: its tokens no longer work.",
  "session-already-revoked": "The session was already revoked.",
  "sessions-revoked": "Every session of the consumer was revoked.",
  "no-sessions": "The consumer had no session left to revoke.",
  "passkey-deactivated": "The passkey was deactivated: it cannot sign in until reactivated.",
  "passkey-reactivated": "The passkey was reactivated.",
  "passkey-unchanged": "The passkey was already in that state.",
};

const form = { before: changeGuards, bodyContentType: "application/x-www-form-urlencoded" } as const;

const consumerPath = (org: string, consumerId: string, mode: Mode, done?: string) =>
  modePath(mode, ["organizations", org, "consumers", consumerId], { done });

/** A service failure of a change: its 404 is the console's 404, anything else a 503 page saying what failed. */
function changeFailed(what: string, err: unknown): never {
  if (err instanceof ServiceCallError) {
    if (err.notFound) throw dashboardNotFound();
    throw new AppError(503, "service_unavailable", failureMessage(what, err));
  }
  throw err;
}

function identity(c: AdminConsumer): SafeHtml {
  const parts = [c.email, c.phone].filter((x): x is string => !!x);
  return parts.length ? html`${parts.join(" · ")}` : html`<span class="muted">guest (no email or phone)</span>`;
}

function listBody(
  org: OrganizationView,
  mode: Mode,
  q: string | undefined,
  list: Loaded<{ data: AdminConsumer[]; nextCursor: string | null }>,
): SafeHtml {
  return html`${orgHeader(org, "consumers", mode)}
<form class="search" method="get" action="${modePath(mode, ["organizations", org.id, "consumers"]).split("?")[0] ?? ""}" role="search">
<input type="hidden" name="mode" value="${mode}">
${field({ name: "q", label: "Search by consumer id, email or phone", type: "search", value: q ?? "", hint: "An exact id (cons_… or guest_…), an email address (or its start) or a phone number." })}
<button type="submit">Search</button>
</form>
${
  list.ok
    ? html`<table>
<caption>${mode === "live" ? "Live" : "Test"} consumers${q ? html` matching “${q}”` : ""}, newest first</caption>
<thead><tr><th scope="col">Consumer</th><th scope="col">Kind</th><th scope="col">Email or phone</th><th scope="col">Created</th><th scope="col">Active sessions</th></tr></thead>
<tbody>
${
  list.value.data.length
    ? list.value.data.map(
        (c) =>
          html`<tr><td><a href="${consumerPath(org.id, c.id, mode)}"><code>${c.id}</code></a></td><td>${c.kind}</td><td>${identity(c)}</td><td>${time(c.createdAt)}</td><td>${c.activeSessions}</td></tr>`,
      )
    : html`<tr><td colspan="5">No consumer${q ? html` matches “${q}”` : ""} in ${mode} mode.</td></tr>`
}
</tbody>
</table>
${
  list.value.nextCursor
    ? html`<p><a href="${modePath(mode, ["organizations", org.id, "consumers"], { q, cursor: list.value.nextCursor })}">Older consumers</a></p>`
    : ""
}`
    : ""
}`;
}

function sessionStatus(s: AdminSession): SafeHtml {
  if (s.revokedAt)
    return html`<span class="status-revoked">revoked</span> ${time(s.revokedAt)}${s.revokedReason ? html` (${s.revokedReason})` : ""}`;
  if (s.refreshExpiresAt && new Date(s.refreshExpiresAt).getTime() > Date.now()) return html`<span class="status-active">active</span>`;
  return html`<span class="status-expired">expired</span>`;
}

function sessionsSection(
  caller: DashboardCaller,
  org: string,
  consumerId: string,
  mode: Mode,
  sessions: Loaded<{ data: AdminSession[]; nextCursor: string | null }>,
): SafeHtml {
  const base = ["organizations", org, "consumers", consumerId, "sessions"];
  const hidden = html`${csrfField(caller.session)}<input type="hidden" name="mode" value="${mode}">`;
  if (!sessions.ok)
    return html`<section aria-labelledby="sessions-heading"><h2 id="sessions-heading">Sessions</h2><p class="alert" role="alert">${sessions.message}</p></section>`;
  const list = sessions.value.data;
  const anyLive = list.some((s) => !s.revokedAt);
  return html`<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Sessions</h2>
<table>
<thead><tr><th scope="col">Session</th><th scope="col">Method</th><th scope="col">Created</th><th scope="col">Last refresh</th><th scope="col">IP</th><th scope="col">User agent</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
<tbody>
${
  list.length
    ? list.map(
        (s) => html`<tr>
<td><code>${s.id}</code></td><td>${s.method}</td><td>${time(s.createdAt)}</td><td>${time(s.lastRefreshedAt)}</td>
<td>${s.ip ?? html`<span class="muted">—</span>`}</td><td class="ua">${s.userAgent ?? html`<span class="muted">—</span>`}</td>
<td>${sessionStatus(s)}</td>
<td>${
          s.revokedAt
            ? ""
            : html`<form class="inline" method="post" action="${`/dashboard/${base.map(encodeURIComponent).join("/")}/${encodeURIComponent(s.id)}/revoke`}" data-confirm="Revoke session ${s.id}? Its tokens stop working at once.">
${hidden}
<button type="submit" class="danger">Revoke<span class="visually-hidden"> session ${s.id}</span></button>
</form>`
        }</td>
</tr>`,
      )
    : html`<tr><td colspan="8">No sessions.</td></tr>`
}
</tbody>
</table>
${
  sessions.value.nextCursor
    ? html`<p><a href="${modePath(mode, ["organizations", org, "consumers", consumerId], { sessionsCursor: sessions.value.nextCursor })}">Older sessions</a></p>`
    : ""
}
${
  anyLive
    ? html`<form method="post" action="${`/dashboard/${base.map(encodeURIComponent).join("/")}/revoke`}" data-confirm="Revoke every session of ${consumerId}? The consumer is signed out everywhere.">
${hidden}
<button type="submit" class="danger">Revoke all sessions</button>
</form>`
    : ""
}
</section>`;
}

function passkeysSection(
  caller: DashboardCaller,
  org: string,
  consumerId: string,
  mode: Mode,
  creds: Loaded<{ data: AdminPasskeyCredential[]; nextCursor: string | null }>,
): SafeHtml {
  if (!creds.ok)
    return html`<section aria-labelledby="passkeys-heading"><h2 id="passkeys-heading">Passkeys</h2><p class="alert" role="alert">${creds.message}</p></section>`;
  const base = `/dashboard/organizations/${encodeURIComponent(org)}/consumers/${encodeURIComponent(consumerId)}/passkeys`;
  return html`<section aria-labelledby="passkeys-heading">
<h2 id="passkeys-heading">Passkeys</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Authenticator</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Active</th><th scope="col">Actions</th></tr></thead>
<tbody>
${
  creds.value.data.length
    ? creds.value.data.map(
        (c) => html`<tr>
<td>${c.name} <code class="muted">${c.id}</code></td><td>${c.authenticatorName ?? html`<span class="muted">unknown</span>`}</td>
<td>${time(c.createdAt)}</td><td>${time(c.lastUsedAt)}</td>
<td>${c.isActive ? html`<span class="status-active">yes</span>` : html`<span class="status-revoked">no (deactivated)</span>`}</td>
<td><form class="inline" method="post" action="${base}/${encodeURIComponent(c.id)}/${c.isActive ? "deactivate" : "reactivate"}"${
          c.isActive ? html` data-confirm="Deactivate passkey ${c.name}? It cannot sign in until reactivated."` : ""
        }>
${csrfField(caller.session)}<input type="hidden" name="mode" value="${mode}">
<button type="submit" class="${c.isActive ? "danger" : "secondary"}">${c.isActive ? "Deactivate" : "Reactivate"}<span class="visually-hidden"> passkey ${c.name} ${c.id}</span></button>
</form></td>
</tr>`,
      )
    : html`<tr><td colspan="6">No passkeys (a passkey shows here when its userId is this consumer's id).</td></tr>`
}
</tbody>
</table>
${
  creds.value.nextCursor
    ? html`<p><a href="${modePath(mode, ["organizations", org, "consumers", consumerId], { passkeysCursor: creds.value.nextCursor })}">Older passkeys</a></p>`
    : ""
}
</section>`;
}

export const consumerEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/consumers",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's consumers in one mode: search by id, email or phone",
    params: OrgParams,
    query: ListQuery,
    responses: htmlResponses("The consumers (or, with status 503, why they could not be loaded)."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope: Scope = { organizationId: org.id, mode: query.mode };
      const q = query.q?.trim() || undefined;
      const list = await load("The consumers", consumerAuth.list(deps, scope, { q, cursor: query.cursor }));
      return sendHtml(
        res,
        page({
          title: `${org.name}: consumers`,
          session: caller.session,
          nav: "organizations",
          alert: list.ok ? null : list.message,
          body: listBody(org, query.mode, q, list),
        }),
        list.ok ? 200 : 503,
      );
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/consumers/{consumerId}",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "A consumer: its sessions (revoke one or all) and its passkeys (deactivate, reactivate)",
    params: ConsumerParams,
    query: DetailQuery,
    responses: htmlResponses("The consumer's page (or, with status 503, why it could not be loaded)."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const mode = query.mode;
      const scope: Scope = { organizationId: org.id, mode };
      const [consumer, sessions, creds] = await Promise.all([
        consumerAuth.get(deps, scope, params.consumerId).then(
          (value) => ({ ok: true as const, value }),
          (err: unknown) => {
            if (err instanceof ServiceCallError && err.notFound) throw dashboardNotFound();
            if (err instanceof ServiceCallError) return { ok: false as const, message: failureMessage("The consumer", err) };
            throw err;
          },
        ),
        load("The sessions", consumerAuth.sessions(deps, scope, params.consumerId, query.sessionsCursor)),
        load("The passkeys", passkeys.ofUser(deps, scope, params.consumerId, query.passkeysCursor)),
      ]);
      const c = consumer.ok ? consumer.value : null;
      return sendHtml(
        res,
        page({
          title: `Consumer ${params.consumerId}`,
          session: caller.session,
          nav: "organizations",
          notice: (query.done && DONE[query.done]) || null,
          alert: consumer.ok ? null : consumer.message,
          body: html`${orgHeader(org, "consumers", mode)}
<p><a href="${modePath(mode, ["organizations", org.id, "consumers"])}">All ${mode} consumers</a></p>
${
  c
    ? html`<dl class="facts">
<dt>Kind</dt><dd>${c.kind}</dd>
<dt>Email</dt><dd>${c.email ?? "—"}${c.emailVerifiedAt ? html` (verified ${time(c.emailVerifiedAt)})` : ""}</dd>
<dt>Phone</dt><dd>${c.phone ?? "—"}${c.phoneVerifiedAt ? html` (verified ${time(c.phoneVerifiedAt)})` : ""}</dd>
<dt>Created</dt><dd>${time(c.createdAt)}</dd>
<dt>Registered</dt><dd>${c.upgradedAt ? time(c.upgradedAt) : c.kind === "registered" ? "at creation" : "not yet (guest)"}</dd>
<dt>Active sessions</dt><dd>${c.activeSessions}</dd>
</dl>`
    : ""
}
${sessionsSection(caller, org.id, params.consumerId, mode, sessions)}
${passkeysSection(caller, org.id, params.consumerId, mode, creds)}`,
        }),
        consumer.ok ? 200 : 503,
      );
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/consumers/{consumerId}/sessions/{sessionId}/revoke",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Revoke one session of a consumer (its tokens stop working at once)",
    params: SessionParams,
    body: ActionForm,
    responses: htmlResponses("Never: a redirect to the consumer's page."),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope: Scope = { organizationId: org.id, mode: body.mode };
      const out = await consumerAuth
        .revokeSession(deps, scope, params.consumerId, params.sessionId)
        .catch((err) => changeFailed("The session", err));
      if (out.revoked > 0)
        await writeAudit(deps, caller, {
          ...scope,
          action: "consumer.session.revoke",
          target: params.sessionId,
          details: { consumerId: params.consumerId },
        });
      return redirect(
        res,
        consumerPath(org.id, params.consumerId, body.mode, out.revoked > 0 ? "session-revoked" : "session-already-revoked"),
      );
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/consumers/{consumerId}/sessions/revoke",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Revoke every session of a consumer",
    params: ConsumerParams,
    body: ActionForm,
    responses: htmlResponses("Never: a redirect to the consumer's page."),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const scope: Scope = { organizationId: org.id, mode: body.mode };
      const out = await consumerAuth.revokeAll(deps, scope, params.consumerId).catch((err) => changeFailed("The sessions", err));
      if (out.revoked > 0)
        await writeAudit(deps, caller, {
          ...scope,
          action: "consumer.sessions.revoke_all",
          target: params.consumerId,
          details: { revoked: out.revoked },
        });
      return redirect(res, consumerPath(org.id, params.consumerId, body.mode, out.revoked > 0 ? "sessions-revoked" : "no-sessions"));
    },
  }),
  ...(["deactivate", "reactivate"] as const).map((action) =>
    dashboardApi.endpoint({
      method: "post",
      path: `/dashboard/organizations/{organizationId}/consumers/{consumerId}/passkeys/{credentialId}/${action}`,
      auth: "cookieSession",
      rateLimit: "ip",
      ...form,
      summary:
        action === "deactivate"
          ? "Deactivate a consumer's passkey (it cannot sign in until reactivated)"
          : "Reactivate a consumer's passkey",
      params: PasskeyParams,
      body: ActionForm,
      responses: htmlResponses("Never: a redirect to the consumer's page."),
      handler: async (deps: AppDeps, { caller, params, body, res }) => {
        const org = await organizationFor(deps, caller.principal, params.organizationId);
        const scope: Scope = { organizationId: org.id, mode: body.mode };
        // Only a passkey of THIS consumer (userId = consumer id) is acted on from its page.
        const before = await passkeys.get(deps, scope, params.credentialId).catch((err) => changeFailed("The passkey", err));
        if (before.userId !== params.consumerId) throw dashboardNotFound();
        const active = action === "reactivate";
        if (before.isActive === active) return redirect(res, consumerPath(org.id, params.consumerId, body.mode, "passkey-unchanged"));
        const after = await passkeys.setActive(deps, scope, params.credentialId, active).catch((err) => changeFailed("The passkey", err));
        await writeAudit(deps, caller, {
          ...scope,
          action: active ? "passkey.reactivate" : "passkey.deactivate",
          target: after.id,
          details: { consumerId: params.consumerId, name: after.name, authenticatorName: after.authenticatorName },
        });
        return redirect(res, consumerPath(org.id, params.consumerId, body.mode, active ? "passkey-reactivated" : "passkey-deactivated"));
      },
    }),
  ),
];
