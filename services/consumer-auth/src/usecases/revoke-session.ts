import { type EventEnvelope, EventType, type Mode, type SessionRevokedData } from "@authplane/contracts";
import { newEvent } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import type { AppDeps } from "../deps.js";
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
