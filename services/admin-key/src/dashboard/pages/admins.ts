import { z } from "zod";
import type { AppDeps } from "../../deps.js";
import { pathId } from "../../routes/api.js";
import { AdminEmail, inviteAdmin, listAdmins, removeAdmin } from "../admins.js";
import { gatewayClient } from "../api-client.js";
import { type DashboardCaller, changeGuards, dashboardApi, htmlResponses, redirect, sendHtml } from "../api.js";
import { writeAudit } from "../audit.js";
import { CONSOLE_MODE, consoleOrganization } from "../console-org.js";
import { html, path } from "../html.js";
import { csrfField, type FieldErrors, field, page, time } from "../layout.js";
import { organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";
import { dashboardNotFound } from "../principal.js";

/**
 * An organization's console admins ("Admins" tab): invite by email, list (invited / active),
 * revoke an invite or remove an admin. The operator may do this for every organization; an
 * organization admin for its own only (organizationFor: another organization is a 404). Every
 * change is audited (`admin.invite`, `admin.remove`). An invited admin signs in on the sign-in
 * page with an email code (and then a passkey); nothing is mailed at invite time (the sign-in code
 * is the only email, so an invite cannot be used to spam an address).
 */

const OrgParams = z.object({ organizationId: organizationIdParam });
const AdminParams = z.object({
  organizationId: organizationIdParam,
  adminId: pathId(z.string().regex(/^adm_[0-9A-HJKMNP-TV-Z]{26}$/), dashboardNotFound, "The admin's id (adm_…)."),
});
const InviteForm = z.object({ email: z.string().max(1000).default(""), _csrf: z.string().max(200).optional() });
const RemoveForm = z.object({ _csrf: z.string().max(200).optional() });

const DONE: Record<string, string> = {
  invited: "The invite was saved. The admin can now sign in with that email address.",
  removed: "The admin was removed (an invite revoked); their console sessions on this organization ended.",
};

const form = { before: changeGuards, bodyContentType: "application/x-www-form-urlencoded" } as const;

async function adminsPage(
  deps: AppDeps,
  caller: DashboardCaller,
  organizationId: string,
  opts: { notice?: string | null; email?: string; errors?: FieldErrors },
) {
  const org = await organizationFor(deps, caller.principal, organizationId);
  const admins = await listAdmins(deps, org.id);
  const self = caller.principal.kind === "orgAdmin" ? caller.principal.id : null;
  return page({
    title: `${org.name}: admins`,
    session: caller.session,
    nav: "organizations",
    notice: opts.notice ?? null,
    body: html`${orgHeader(org, "admins")}
<p>Organization admins sign in to this console with an email code and a passkey (no key in the browser) and see only this organization.</p>
<table>
<caption class="visually-hidden">Admins of ${org.name}</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Invited</th><th scope="col">Last sign-in</th><th scope="col">Actions</th></tr></thead>
<tbody>
${
  admins.length
    ? admins.map(
        (a) => html`<tr>
<td>${a.email}${a.id === self ? html` <span class="muted">(you)</span>` : ""}</td>
<td>${a.acceptedAt ? html`<span class="status-active">active</span>` : html`<span class="status-pending">invited</span>`}</td>
<td>${time(a.invitedAt)} <span class="muted">by ${a.invitedBy}</span></td>
<td>${time(a.lastSignInAt)}</td>
<td><form class="inline" method="post" action="${path("organizations", org.id, "admins", a.id, "remove")}" data-confirm="Remove ${a.email}? Their console sessions end at once.">
${csrfField(caller.session)}
<button type="submit" class="danger">${a.acceptedAt ? "Remove" : "Revoke invite"}<span class="visually-hidden"> ${a.email}</span></button>
</form></td>
</tr>`,
      )
    : html`<tr><td colspan="5">No admins yet.</td></tr>`
}
</tbody>
</table>
<section aria-labelledby="invite-heading">
<h2 id="invite-heading">Invite an admin</h2>
<form method="post" action="${path("organizations", org.id, "admins")}">
${csrfField(caller.session)}
${field({ name: "email", label: "Email address", type: "email", value: opts.email ?? "", required: true, autocomplete: "off", errors: opts.errors, hint: "They sign in on the console's sign-in page with a code sent to this address." })}
<button type="submit">Invite</button>
</form>
</section>`,
  });
}

/** Deactivates the passkey of an identity that no longer administers anything (best effort: logged). */
async function deactivateOrphanedPasskey(deps: AppDeps, credentialId: string | null): Promise<void> {
  if (!credentialId) return;
  try {
    const org = await consoleOrganization(deps);
    await gatewayClient(deps.env).call({
      method: "POST",
      path: `/api/v1/credentials/${encodeURIComponent(credentialId)}/deactivate`,
      scope: { organizationId: org.organizationId, mode: CONSOLE_MODE },
      schema: z.unknown(),
    });
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, "dashboard: could not deactivate a removed admin's passkey");
  }
}

export const adminEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/admins",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization's console admins and invites",
    params: OrgParams,
    query: z.object({ done: z.string().max(40).optional() }),
    responses: htmlResponses("The admins page."),
    handler: async (deps, { caller, params, query, res }) =>
      sendHtml(res, await adminsPage(deps, caller, params.organizationId, { notice: (query.done && DONE[query.done]) || null })),
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/admins",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Invite an admin by email (audited)",
    params: OrgParams,
    body: InviteForm,
    responses: htmlResponses("Never on success (a redirect); the page with the field's error on invalid input."),
    handler: async (deps, { caller, params, body, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const email = AdminEmail.safeParse(body.email);
      if (!email.success)
        return sendHtml(
          res,
          await adminsPage(deps, caller, org.id, { email: body.email, errors: { email: ["Enter an email address (name@example.com)."] } }),
          400,
        );
      const row = await inviteAdmin(deps, { organizationId: org.id, email: email.data, invitedBy: caller.principal.label });
      if (!row)
        return sendHtml(
          res,
          await adminsPage(deps, caller, org.id, {
            email: body.email,
            errors: { email: ["This address is already an admin (or invited) here."] },
          }),
          400,
        );
      await writeAudit(deps, caller, { organizationId: org.id, action: "admin.invite", target: row.id, details: { email: row.email } });
      return redirect(res, `${path("organizations", org.id, "admins")}?done=invited`);
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/organizations/{organizationId}/admins/{adminId}/remove",
    auth: "cookieSession",
    rateLimit: "ip",
    ...form,
    summary: "Remove an admin or revoke an invite (their console sessions end; audited)",
    params: AdminParams,
    body: RemoveForm,
    responses: htmlResponses("Never: a redirect to the admins page."),
    handler: async (deps, { caller, params, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const removed = await removeAdmin(deps, { organizationId: org.id, adminId: params.adminId });
      if (!removed) throw dashboardNotFound();
      await writeAudit(deps, caller, {
        organizationId: org.id,
        action: "admin.remove",
        target: removed.admin.id,
        details: { email: removed.admin.email, accepted: removed.admin.acceptedAt !== null },
      });
      if (removed.orphanedPasskey) await deactivateOrphanedPasskey(deps, removed.orphanedPasskey.credentialId);
      // Removing oneself ends one's own session: back to the sign-in page.
      if (caller.principal.kind === "orgAdmin" && caller.principal.id === removed.admin.id) return redirect(res, path("sign-in"));
      return redirect(res, `${path("organizations", org.id, "admins")}?done=removed`);
    },
  }),
];
