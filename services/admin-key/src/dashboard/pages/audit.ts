import { OrganizationId } from "@authplane/contracts";
import { z } from "zod";
import { dashboardApi, htmlResponses, sendHtml } from "../api.js";
import { type AuditRow, listAudit } from "../audit.js";
import { html, path } from "../html.js";
import { field, page, time } from "../layout.js";
import { canSeeOrganization, visibleOrganizationIds } from "../principal.js";

/**
 * The audit log: every change made through the console, newest first, filterable by
 * organization. An organization admin sees its organization's events only.
 */

const AuditQuery = z.object({
  organizationId: z.string().max(100).optional(),
  before: z.string().max(40).optional(),
});

function row(e: AuditRow) {
  return html`<tr>
<td>${time(e.at)}</td>
<td>${e.actorLabel}<br><span class="muted">${e.actorKind}</span></td>
<td><code>${e.action}</code></td>
<td>${e.organizationId ? html`<a href="${path("organizations", e.organizationId)}"><code>${e.organizationId}</code></a>` : html`<span class="muted">—</span>`}</td>
<td>${e.mode ?? html`<span class="muted">—</span>`}</td>
<td>${e.target ? html`<code>${e.target}</code>` : html`<span class="muted">—</span>`}</td>
<td><pre class="details">${JSON.stringify(e.details)}</pre></td>
<td>${e.ip ?? ""}</td>
</tr>`;
}

export const auditEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/audit",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "The audit log of console changes (filter by organization)",
    query: AuditQuery,
    responses: htmlResponses("The audit log."),
    handler: async (deps, { caller, query, res }) => {
      const filter = query.organizationId?.trim() || undefined;
      const invalid = filter !== undefined && !OrganizationId.safeParse(filter).success;
      // A filter on an organization the principal cannot see shows nothing (as for an unknown one).
      const hidden = filter !== undefined && !canSeeOrganization(caller.principal, filter);
      const { events, nextBefore } =
        invalid || hidden
          ? { events: [], nextBefore: null }
          : await listAudit(deps, {
              organizationId: filter,
              organizationIds: visibleOrganizationIds(caller.principal),
              limit: 100,
              before: query.before,
            });
      const more = nextBefore
        ? new URLSearchParams({ ...(filter ? { organizationId: filter } : {}), before: nextBefore }).toString()
        : null;
      return sendHtml(
        res,
        page({
          title: "Audit log",
          session: caller.session,
          nav: "audit",
          body: html`<form class="search" method="get" action="${path("audit")}">
${field({
  name: "organizationId",
  label: "Organization id",
  value: filter ?? "",
  hint: "org_… — leave empty for every organization.",
  errors: invalid ? { organizationId: ["must be an organization id (org_…)"] } : undefined,
})}
<button type="submit">Filter</button>
</form>
<table>
<caption class="visually-hidden">Audit events, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Organization</th><th scope="col">Mode</th><th scope="col">Target</th><th scope="col">Details</th><th scope="col">IP</th></tr></thead>
<tbody>
${events.length ? events.map(row) : html`<tr><td colspan="8">No events.</td></tr>`}
</tbody>
</table>
${more ? html`<p><a href="${path("audit")}?${more}">Older events</a></p>` : ""}`,
        }),
      );
    },
  }),
];
