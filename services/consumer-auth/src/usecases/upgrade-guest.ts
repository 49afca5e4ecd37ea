import { type ConsumerUpgradedData, type EventEnvelope, EventType, type Mode } from "@authplane/contracts";
import { newEvent } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import type { Prisma } from "../generated/prisma/client.js";
import { type RevokedSession, revokeGuestSessionsForUpgrade } from "./revoke-session.js";

export interface GuestUpgradeInput {
  guestId: string;
  scope: { organizationId: string; mode: Mode };
  via: ConsumerUpgradedData["via"];
  /** The verified identity the guest takes (email and/or phone with their verification times); may be empty. */
  identity: { email?: string; emailVerifiedAt?: Date; phone?: string; phoneVerifiedAt?: Date };
  now: Date;
  /**
   * Runs once the guest is claimed and before its sessions are revoked (exchange links the
   * external identity here): a failure here (a unique violation) rolls everything back before
   * any revoked-session marker is written to Redis.
   */
  attach?: (tx: Prisma.TransactionClient, consumerId: string) => Promise<void>;
}

export interface GuestUpgrade {
  /** The consumer as it is after the upgrade (same id, kind registered). */
  consumer: { id: string; kind: "registered"; email: string | null; phone: string | null };
  /** `consumers.v1.upgraded`, to be written with the upgrade's session (`issueSession` `extraEvents`). */
  event: EventEnvelope;
  /** The guest's sessions revoked by the upgrade: pass to `rewriteRevokedMarkers` after the commit. */
  revoked: RevokedSession[];
}

/**
 * THE guest upgrade (OTP verify and external exchange), inside the caller's transaction: one
 * conditional UPDATE turns the guest into a registered consumer only while it is still a guest of
 * this organization and mode. Two concurrent upgrades of one guest (a verify and an exchange, two
 * tabs, two pods) both reach that UPDATE; Postgres makes the second wait for the first's row lock
 * and re-evaluate `kind = 'guest'` after its commit, so exactly one changes the row and the other
 * gets null (its caller then signs in some other way, e.g. as a new consumer). Only the winner
 * revokes the guest's earlier sessions (see `revokeGuestSessionsForUpgrade`), so they are revoked
 * once and the winner's new session is never among them.
 *
 * Null when the caller is no longer a guest of this scope. A unique violation (the identity was
 * taken meanwhile) is thrown as is: the caller's transaction rolls back.
 */
export async function upgradeGuest(
  deps: Pick<AppDeps, "redis">,
  tx: Prisma.TransactionClient,
  input: GuestUpgradeInput,
): Promise<GuestUpgrade | null> {
  const { guestId, scope, now } = input;
  const [row] = await tx.consumer.updateManyAndReturn({
    where: { id: guestId, organizationId: scope.organizationId, mode: scope.mode, kind: "guest" },
    data: { ...input.identity, kind: "registered", upgradedAt: now },
    select: { id: true, email: true, phone: true },
  });
  if (!row) return null;
  await input.attach?.(tx, row.id);
  // The guest's earlier sessions (the calling one too) die with the upgrade.
  const revoked = await revokeGuestSessionsForUpgrade(deps, tx, { consumerId: row.id, ...scope });
  const data: ConsumerUpgradedData = { consumerId: row.id, via: input.via, email: row.email, phone: row.phone };
  return {
    consumer: { id: row.id, kind: "registered", email: row.email, phone: row.phone },
    event: newEvent(EventType.consumerUpgraded, scope, data),
    revoked,
  };
}
