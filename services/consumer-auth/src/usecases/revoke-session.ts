import { type EventEnvelope, EventType, type Mode, type SessionRevokedData } from "@authplane/contracts";
import { DependencyUnavailableError, newEvent } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { outboxData } from "../events/outbox.js";
import type { Prisma } from "../generated/prisma/client.js";
import { revokedMarkerTtl, revokedSessionKey } from "../tokens/revocations.js";

/**
 * Revokes a session at once: the Redis revoked-session marker goes first (access tokens fail
 * /check and /introspect from that moment, even if Postgres then fails), then the session and all
 * its refresh tokens are marked revoked with `sessions.v1.revoked` (+ `extraEvents`) in the outbox
 * (locks: the session row, then its refresh tokens — the order /refresh uses too). Postgres is the
 * record: after the commit the marker is written again, so a Redis flush between the two writes
 * cannot lose it (and a later loss is repaired by the rebuild, see Revocations). The marker lives
 * until every access token of the session has expired. Idempotent.
 */
export async function revokeSession(
  deps: Pick<AppDeps, "prisma" | "redis" | "relay">,
  input: {
    session: { id: string; organizationId: string; mode: string; consumerId: string; accessExpiresAt: Date };
    reason: SessionRevokedData["reason"];
    extraEvents?: EventEnvelope[];
  },
): Promise<boolean> {
  const s = input.session;
  await deps.redis.set(revokedSessionKey(s.id), "1", "EX", revokedMarkerTtl(s.accessExpiresAt));
  const scope = { organizationId: s.organizationId, mode: s.mode as Mode };
  const data: SessionRevokedData = { sessionId: s.id, consumerId: s.consumerId, reason: input.reason };
  const revokedNow = await deps.prisma.$transaction(async (tx) => {
    const now = new Date();
    const [row] = await tx.session.updateManyAndReturn({
      where: { id: s.id, revokedAt: null },
      data: { revokedAt: now, revokedReason: input.reason },
      select: { accessExpiresAt: true },
    });
    if (!row) return null;
    await tx.refreshToken.updateMany({ where: { sessionId: s.id, revokedAt: null }, data: { revokedAt: now } });
    const events = [...(input.extraEvents ?? []), newEvent(EventType.sessionRevoked, scope, data)];
    await tx.outboxEvent.createMany({ data: events.map(outboxData) });
    return row;
  });
  if (revokedNow) {
    // Committed: Postgres holds the revocation whatever Redis does next.
    await deps.redis.set(revokedSessionKey(s.id), "1", "EX", revokedMarkerTtl(revokedNow.accessExpiresAt));
  }
  deps.relay.kick();
  return revokedNow !== null;
}

/**
 * POST /logout: ends the session of the caller's access token (401 when it is not found), as
 * `revokeSession` does with reason `logout`.
 */
export async function logout(deps: Pick<AppDeps, "prisma" | "redis" | "relay">, input: { sessionId: string }): Promise<void> {
  const session = await deps.prisma.session.findFirst({ where: { id: input.sessionId } });
  if (!session) throw appError(ErrorCatalog.authenticationRequired);
  await revokeSession(deps, { session, reason: "logout" });
}

/**
 * Guest upgrade: revokes every live session of the guest `consumerId` (the calling one included),
 * inside the caller's upgrade transaction and BEFORE the upgrade's own session is issued, so that
 * a refresh or access token planted on a shared device cannot follow the new owner into the
 * account. Same order as `revokeSession`: the Redis markers first (a Redis failure aborts the
 * upgrade: 503, nothing committed), then the session rows, then their refresh tokens, with one
 * `sessions.v1.revoked` (`reason: "guest_upgrade"`) per session in the outbox. After the commit
 * the caller kicks the relay and calls `rewriteRevokedMarkers` with the returned sessions (as
 * `revokeSession` does: a Redis flush between the first write and the commit cannot lose them).
 */
export async function revokeGuestSessionsForUpgrade(
  deps: Pick<AppDeps, "redis">,
  tx: Prisma.TransactionClient,
  guest: { consumerId: string; organizationId: string; mode: Mode },
): Promise<RevokedSession[]> {
  const live = await tx.session.findMany({
    where: { consumerId: guest.consumerId, revokedAt: null },
    select: { id: true, accessExpiresAt: true },
  });
  if (live.length === 0) return [];
  const markers = deps.redis.multi();
  for (const s of live) markers.set(revokedSessionKey(s.id), "1", "EX", revokedMarkerTtl(s.accessExpiresAt));
  const replies = await markers.exec();
  const failed = !replies ? new Error("transaction discarded") : replies.find(([err]) => err)?.[0];
  if (failed) throw new DependencyUnavailableError("redis", failed);
  const ids = live.map((s) => s.id);
  const now = new Date();
  const revoked = await tx.session.updateManyAndReturn({
    where: { id: { in: ids }, revokedAt: null },
    data: { revokedAt: now, revokedReason: "guest_upgrade" },
    select: { id: true, accessExpiresAt: true },
  });
  await tx.refreshToken.updateMany({ where: { sessionId: { in: ids }, revokedAt: null }, data: { revokedAt: now } });
  const scope = { organizationId: guest.organizationId, mode: guest.mode };
  const events = revoked.map((s) => {
    const data: SessionRevokedData = { sessionId: s.id, consumerId: guest.consumerId, reason: "guest_upgrade" };
    return newEvent(EventType.sessionRevoked, scope, data);
  });
  if (events.length > 0) await tx.outboxEvent.createMany({ data: events.map(outboxData) });
  return revoked;
}

export interface RevokedSession {
  id: string;
  accessExpiresAt: Date;
}

/**
 * Writes the revoked markers of committed revocations again. Best effort: if Redis is down now,
 * checks fail closed (503) and the set is rebuilt from Postgres when it returns.
 */
export async function rewriteRevokedMarkers(deps: Pick<AppDeps, "redis">, sessions: RevokedSession[]): Promise<void> {
  if (sessions.length === 0) return;
  const markers = deps.redis.multi();
  for (const s of sessions) markers.set(revokedSessionKey(s.id), "1", "EX", revokedMarkerTtl(s.accessExpiresAt));
  await markers.exec().catch(() => {});
}
