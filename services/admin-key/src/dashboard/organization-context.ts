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
  /** Path under /dashboard/organizations/{id}/ ("" for the keys page). */
  sub: string;
  /** A page of one mode at a time (`?mode=live|test`): its link keeps the mode being looked at. */
  perMode?: boolean;
}

/** The organization's sub-navigation. Add a tab here for a new per-organization page. */
const ORG_TABS: OrgTab[] = [
  { key: "overview", label: "Overview", sub: "overview", perMode: true },
  { key: "keys", label: "Keys", sub: "" },
  { key: "settings", label: "Settings", sub: "settings" },
  { key: "consumers", label: "Consumers", sub: "consumers", perMode: true },
  { key: "otp-deliveries", label: "OTP deliveries", sub: "otp-deliveries", perMode: true },
  { key: "events", label: "Live events", sub: "events", perMode: true },
  { key: "admins", label: "Admins", sub: "admins" },
];

/** `?mode=` of the per-mode pages (default live). */
export const ModeQuery = z.enum(["live", "test"]).default("live").meta({ description: "`live` (default) or `test`: the mode looked at." });

/** A per-mode page's URL: `path(...)` with `?mode=` and further query parameters (empty ones left out). */
export function modePath(mode: Mode, segments: string[], query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams({ mode });
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  return `${path(...segments)}?${q.toString()}`;
}

/**
 * The organization pages' heading line and sub-navigation; on a per-mode page (`mode` given) also
 * the live/test switch, which links to the same page in the other mode.
 */
export function orgHeader(org: OrganizationView, current: string, mode?: Mode): SafeHtml {
  const tab = ORG_TABS.find((t) => t.key === current);
  return html`<p class="muted">Organization <code>${org.id}</code> · created ${org.createdAt.slice(0, 10)}</p>
<nav class="org-nav" aria-label="Organization">
<ul>
${ORG_TABS.map((t) => {
  const segments = t.sub ? ["organizations", org.id, t.sub] : ["organizations", org.id];
  return html`<li><a href="${t.perMode && mode ? modePath(mode, segments) : path(...segments)}"${
    t.key === current ? html` aria-current="page"` : ""
  }>${t.label}</a></li>`;
})}
</ul>
</nav>
${
  mode && tab
    ? html`<nav class="mode-switch" aria-label="Mode">
<ul>
${MODES.map(
  (m) =>
    html`<li><a href="${modePath(m, ["organizations", org.id, tab.sub])}"${m === mode ? html` aria-current="page"` : ""}>${
      m === "live" ? "Live" : "Test"
    }</a></li>`,
)}
</ul>
</nav>`
    : ""
}`;
}
