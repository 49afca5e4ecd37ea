import { type EventEnvelope, EventType, type Mode, type SessionRevokedData } from "@authplane/contracts";
import { newEvent } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import type { AppDeps } from "../deps.js";
import type { Prisma } from "../generated/prisma/client.js";
import { revokedSessionKey } from "./verify-access-token.js";

/** Seconds past the last access token's exp that the revoked marker is kept (clock skew). */
const REVOKED_MARKER_SLACK_SECONDS = 60;

/**
 * Revokes a session at once: the Redis revoked-session marker goes first (access tokens fail
 * /check and /introspect from that moment, even if Postgres then fails), then the session and all
 * its refresh tokens are marked revoked with `sessions.v1.revoked` (+ `extraEvents`) in the outbox.
 * The marker lives until every access token of the session has expired. Idempotent.
 */
export async function revokeSession(
  deps: Pick<AppDeps, "prisma" | "redis" | "relay">,
  input: {
    session: { id: string; organizationId: string; mode: string; consumerId: string; accessTokenTtlSeconds: number };
    reason: SessionRevokedData["reason"];
    extraEvents?: EventEnvelope[];
  },
): Promise<boolean> {
  const s = input.session;
  await deps.redis.set(revokedSessionKey(s.id), "1", "EX", s.accessTokenTtlSeconds + REVOKED_MARKER_SLACK_SECONDS);
  const scope = { organizationId: s.organizationId, mode: s.mode as Mode };
  const data: SessionRevokedData = { sessionId: s.id, consumerId: s.consumerId, reason: input.reason };
  const revokedNow = await deps.prisma.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.session.updateMany({
      where: { id: s.id, revokedAt: null },
      data: { revokedAt: now, revokedReason: input.reason },
    });
    if (count === 0) return false;
    await tx.refreshToken.updateMany({ where: { sessionId: s.id, revokedAt: null }, data: { revokedAt: now } });
    const events = [...(input.extraEvents ?? []), newEvent(EventType.sessionRevoked, scope, data)];
    await tx.outboxEvent.createMany({ data: events.map(outboxData) });
    return true;
  });
  deps.relay.kick();
  return revokedNow;
}

/**
 * Guest upgrade: revokes every live session of the guest `consumerId` (the calling one included),
 * inside the caller's upgrade transaction and BEFORE the upgrade's own session is issued, so that
 * a refresh or access token planted on a shared device cannot follow the new owner into the
 * account. Same order as `revokeSession`: the Redis markers first (a Redis failure aborts the
 * upgrade: 503, nothing committed), then the session rows, then their refresh tokens, with one
 * `sessions.v1.revoked` (`reason: "guest_upgrade"`) per session in the outbox. The caller kicks the
 * relay after commit. Returns the revoked session ids.
 */
export async function revokeGuestSessionsForUpgrade(
  deps: Pick<AppDeps, "redis">,
  tx: Prisma.TransactionClient,
  guest: { consumerId: string; organizationId: string; mode: Mode },
): Promise<string[]> {
  const live = await tx.session.findMany({
    where: { consumerId: guest.consumerId, revokedAt: null },
    select: { id: true, accessTokenTtlSeconds: true },
  });
  if (live.length === 0) return [];
  const markers = deps.redis.multi();
  for (const s of live) markers.set(revokedSessionKey(s.id), "1", "EX", s.accessTokenTtlSeconds + REVOKED_MARKER_SLACK_SECONDS);
  const replies = await markers.exec();
  if (!replies || replies.some(([err]) => err)) throw new Error("could not write the revoked-session markers");
  const ids = live.map((s) => s.id);
  const now = new Date();
  const revoked = await tx.session.updateManyAndReturn({
    where: { id: { in: ids }, revokedAt: null },
    data: { revokedAt: now, revokedReason: "guest_upgrade" },
    select: { id: true },
  });
  await tx.refreshToken.updateMany({ where: { sessionId: { in: ids }, revokedAt: null }, data: { revokedAt: now } });
  const scope = { organizationId: guest.organizationId, mode: guest.mode };
  const events = revoked.map((s) => {
    const data: SessionRevokedData = { sessionId: s.id, consumerId: guest.consumerId, reason: "guest_upgrade" };
    return newEvent(EventType.sessionRevoked, scope, data);
  });
  if (events.length > 0) await tx.outboxEvent.createMany({ data: events.map(outboxData) });
  return revoked.map((s) => s.id);
}
