import type { OrganizationView } from "@authplane/contracts";
import type { PrismaClient } from "../generated/prisma/client.js";
import { organizationView } from "../views.js";

/** The organization, or null. */
export async function getOrganization(prisma: PrismaClient, id: string): Promise<OrganizationView | null> {
  const org = await prisma.organization.findFirst({ where: { id }, include: { settings: true } });
  return org ? organizationView(org) : null;
}

/** Organizations, newest first, by keyset pagination on the (time-ordered) id. */
export async function listOrganizations(
  prisma: PrismaClient,
  opts: { limit: number; before?: string },
): Promise<{ organizations: OrganizationView[]; nextBefore: string | null }> {
  const rows = await prisma.organization.findMany({
    where: opts.before ? { id: { lt: opts.before } } : {},
    orderBy: { id: "desc" },
    take: opts.limit + 1,
    include: { settings: true },
  });
  const page = rows.slice(0, opts.limit);
  return { organizations: page.map(organizationView), nextBefore: rows.length > opts.limit ? (page.at(-1)?.id ?? null) : null };
}
