import { type Mode, OrganizationId, type OrganizationView } from "@authplane/contracts";
import { z } from "zod";
import { pathId } from "../routes/api.js";
import type { AppDeps } from "../deps.js";
import { getOrganization } from "../usecases/get-organization.js";
import { html, path, type SafeHtml } from "./html.js";
import { assertCanSeeOrganization, dashboardNotFound, type Principal } from "./principal.js";

/** Both modes, in the order the console shows them side by side. */
export const MODES: readonly Mode[] = ["live", "test"];

/** `{organizationId}` of a console path: a malformed id is the same 404 as an unknown one. */
export const organizationIdParam = pathId(OrganizationId, dashboardNotFound, "The organization's id (org_…).");
export const modeParam = pathId(z.enum(["live", "test"]), dashboardNotFound, "`live` or `test`.");

/**
 * The organization a page is about, if the principal may see it (else the 404 an unknown one
 * gets). Every organization page starts here.
 */
export async function organizationFor(deps: AppDeps, principal: Principal, organizationId: string): Promise<OrganizationView> {
  assertCanSeeOrganization(principal, organizationId);
  const org = await getOrganization(deps, { organizationId });
  if (!org) throw dashboardNotFound();
  return org;
}

interface OrgTab {
  key: string;
  label: string;
  /** Path under /dashboard/organizations/{id}/ ("" for the overview). */
  sub: string;
}

/** The organization's sub-navigation. Add a tab here for a new per-organization page. */
const ORG_TABS: OrgTab[] = [
  { key: "keys", label: "Keys", sub: "" },
  { key: "settings", label: "Settings", sub: "settings" },
];

/** The organization pages' heading line and sub-navigation. */
export function orgHeader(org: OrganizationView, current: string): SafeHtml {
  return html`<p class="muted">Organization <code>${org.id}</code> · created ${org.createdAt.slice(0, 10)}</p>
<nav class="org-nav" aria-label="Organization">
<ul>
${ORG_TABS.map(
  (t) =>
    html`<li><a href="${t.sub ? path("organizations", org.id, t.sub) : path("organizations", org.id)}"${
      t.key === current ? html` aria-current="page"` : ""
    }>${t.label}</a></li>`,
)}
</ul>
</nav>`;
}
