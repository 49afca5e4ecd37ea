import { AppError } from "@authplane/service-kit";

/**
 * Who is signed in to the console. One place decides what a principal may see:
 * - `operator`: signed in with the operator token; every organization, and creating organizations.
 * - `orgAdmin`: an organization's administrator (signs in without any secret key in the browser);
 *   bound to exactly one organization, and sees nothing of any other.
 * Every page and action about an organization goes through `assertCanSeeOrganization`, and every
 * operator-only action through `assertOperator`.
 */
export type Principal =
  | { kind: "operator"; id: string; label: string }
  | { kind: "orgAdmin"; id: string; label: string; organizationId: string };

/** Can this principal see (and act on) organization `organizationId`? */
export function canSeeOrganization(principal: Principal, organizationId: string): boolean {
  if (principal.kind === "operator") return true;
  return principal.organizationId === organizationId;
}

/**
 * A 404, exactly what an unknown organization gets, when the principal may not see it (an
 * organization admin does not learn whether another organization exists).
 */
export function assertCanSeeOrganization(principal: Principal, organizationId: string): void {
  if (!canSeeOrganization(principal, organizationId)) throw dashboardNotFound();
}

/** Operator-only actions (listing every organization, creating one): a 403 for anyone else. */
export function assertOperator(principal: Principal): void {
  if (principal.kind !== "operator") throw new AppError(403, "forbidden", "Only the platform operator can do this.");
}

/** The organizations a principal may list: all (null) or its own. */
export function visibleOrganizationIds(principal: Principal): string[] | null {
  return principal.kind === "operator" ? null : [principal.organizationId];
}

export function dashboardNotFound(): AppError {
  return new AppError(404, "not_found", "No such page, or nothing you can see here.");
}
