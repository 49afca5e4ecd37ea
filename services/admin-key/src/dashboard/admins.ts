import { ulid } from "@authplane/service-kit";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import type { DashboardAdmin } from "../generated/prisma/client.js";

/**
 * Organization admins of the console (`dashboard_admins`): invited by email per organization,
 * accepted at their first sign-in. One email may be an admin of several organizations; its
 * sign-in identity (the console organization's consumer, its passkey) is one
 * (`dashboard_admin_identities`).
 */

/** An email as the console compares it: trimmed, lower-cased (consumer-auth does the same). */
export const AdminEmail = z
  .string()
  .trim()
  .max(254)
  .transform((s) => s.toLowerCase())
  .pipe(z.email({ message: "must be an email address" }));

export async function listAdmins(deps: Pick<AppDeps, "prisma">, organizationId: string): Promise<DashboardAdmin[]> {
  return deps.prisma.dashboardAdmin.findMany({ where: { organizationId }, orderBy: { invitedAt: "asc" }, take: 500 });
}

/** Invites `email` to `organizationId`: the new row, or null when already invited there. */
export async function inviteAdmin(
  deps: Pick<AppDeps, "prisma">,
  input: { organizationId: string; email: string; invitedBy: string },
): Promise<DashboardAdmin | null> {
  const rows = await deps.prisma.dashboardAdmin.createManyAndReturn({
    data: [{ id: `adm_${ulid()}`, organizationId: input.organizationId, email: input.email, invitedBy: input.invitedBy }],
    skipDuplicates: true,
  });
  return rows[0] ?? null;
}

/**
 * Removes an admin (or revokes an invite) of `organizationId`: the row is deleted and the admin's
 * console sessions on that organization end at once. Null when there is no such admin there.
 * When it was the email's last organization, its sign-in identity goes too (a new invite starts
 * afresh: email code, then a new passkey); the caller deactivates that passkey.
 */
export async function removeAdmin(
  deps: Pick<AppDeps, "prisma">,
  input: { organizationId: string; adminId: string },
): Promise<{ admin: DashboardAdmin; orphanedPasskey: { consumerId: string; credentialId: string | null } | null } | null> {
  return deps.prisma.$transaction(async (tx) => {
    const admin = await tx.dashboardAdmin.findFirst({ where: { id: input.adminId, organizationId: input.organizationId } });
    if (!admin) return null;
    await tx.dashboardAdmin.delete({ where: { id: admin.id } });
    await tx.dashboardSession.updateMany({
      where: { principalKind: "orgAdmin", principalId: admin.id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const left = await tx.dashboardAdmin.count({ where: { email: admin.email } });
    let orphanedPasskey: { consumerId: string; credentialId: string | null } | null = null;
    if (left === 0) {
      const identity = await tx.dashboardAdminIdentity.findFirst({ where: { email: admin.email } });
      if (identity) {
        await tx.dashboardAdminIdentity.delete({ where: { email: admin.email } });
        orphanedPasskey = { consumerId: identity.consumerId, credentialId: identity.passkeyCredentialId };
      }
    }
    return { admin, orphanedPasskey };
  });
}

/** The organizations `email` administers (invited there), oldest invite first. */
export async function adminRowsOf(deps: Pick<AppDeps, "prisma">, email: string): Promise<DashboardAdmin[]> {
  return deps.prisma.dashboardAdmin.findMany({ where: { email }, orderBy: { invitedAt: "asc" } });
}

/** Records a verified email code: the identity's consumer (first time) and the invites accepted. */
export async function recordEmailVerified(deps: Pick<AppDeps, "prisma">, email: string, consumerId: string) {
  const now = new Date();
  const identity = await deps.prisma.dashboardAdminIdentity.upsert({
    where: { email },
    create: { email, consumerId },
    update: {},
  });
  await deps.prisma.dashboardAdmin.updateMany({ where: { email, acceptedAt: null }, data: { acceptedAt: now } });
  return identity;
}

export async function identityOf(deps: Pick<AppDeps, "prisma">, email: string) {
  return deps.prisma.dashboardAdminIdentity.findFirst({ where: { email } });
}
