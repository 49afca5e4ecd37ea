import type { ListOrganizationsResponse, OrganizationView } from "@authplane/contracts";
import type { Prisma } from "../generated/prisma/client.js";
import type { Reader } from "../store.js";
import { organizationView } from "../views.js";

/** The organization, or null. */
export async function getOrganization(deps: Reader, input: { organizationId: string }): Promise<OrganizationView | null> {
  const org = await deps.prisma.organization.findFirst({ where: { id: input.organizationId }, include: { settings: true } });
  return org ? organizationView(org) : null;
}

/** Organizations, newest first, by keyset pagination on the (time-ordered) id. */
export async function listOrganizations(deps: Reader, input: { limit: number; before?: string }): Promise<ListOrganizationsResponse> {
  const rows = await deps.prisma.organization.findMany({
    where: input.before ? { id: { lt: input.before } } : {},
    orderBy: { id: "desc" },
    take: input.limit + 1,
    include: { settings: true },
  });
  const page = rows.slice(0, input.limit);
  return { organizations: page.map(organizationView), nextBefore: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
}

/**
 * Organizations whose id is `q` or whose name contains `q` (case-insensitive), newest first
 * (the console's search); without `q`, all. `onlyIds` restricts to those organizations.
 */
export async function searchOrganizations(
  deps: Reader,
  input: { q?: string; limit: number; before?: string; onlyIds?: string[] | null },
): Promise<ListOrganizationsResponse> {
  const q = input.q?.trim();
  const and: Prisma.OrganizationWhereInput[] = [];
  if (q) and.push({ OR: [{ id: q }, { name: { contains: q, mode: "insensitive" } }] });
  if (input.onlyIds) and.push({ id: { in: input.onlyIds } });
  if (input.before) and.push({ id: { lt: input.before } });
  const rows = await deps.prisma.organization.findMany({
    where: { AND: and },
    orderBy: { id: "desc" },
    take: input.limit + 1,
    include: { settings: true },
  });
  const page = rows.slice(0, input.limit);
  return { organizations: page.map(organizationView), nextBefore: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
}
