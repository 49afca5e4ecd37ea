import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import {
  EventType,
  type Mode,
  type OrganizationSettings,
  type RefreshResponse,
  type RefreshTokenReuseDetectedData,
  type SessionRefreshedData,
  type VerifiedKey,
} from "@authplane/contracts";
import { newEvent, refreshReuseMetric, ulid } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { outboxData } from "../events/outbox.js";
import { hashRefreshToken, newRefreshToken } from "./issue-session.js";
import { revokeSession } from "./revoke-session.js";

const REFRESH_TOKEN_PATTERN = /^rt_[A-Za-z0-9_-]{43}$/;

function sealKey(token: string): Buffer {
  return createHash("sha256").update(`grace:${token}`).digest();
}

/**
 * The pair issued for a spent token is stored with it, encrypted with a key derived from the spent
 * token itself: the database (or a backup) alone never holds a usable token, and only a caller
 * presenting the old token can read it.
 */
function sealPair(oldToken: string, pair: RefreshResponse): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", sealKey(oldToken), iv);
  const ct = Buffer.concat([c.update(JSON.stringify(pair), "utf8"), c.final()]);
  return [iv, c.getAuthTag(), ct].map((b) => b.toString("base64url")).join(".");
}

function openPair(oldToken: string, sealed: string | null): RefreshResponse | null {
  if (!sealed) return null;
  try {
    const [iv, tag, ct] = sealed.split(".");
    if (!iv || !tag || !ct) return null;
    const d = createDecipheriv("aes-256-gcm", sealKey(oldToken), Buffer.from(iv, "base64url"));
    d.setAuthTag(Buffer.from(tag, "base64url"));
    return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8")) as RefreshResponse;
  } catch {
    return null;
  }
}

/** When a session ends for good: sign-in + the organization's CURRENT session lifetime. */
function sessionEndsAt(createdAt: Date, settings: Pick<OrganizationSettings, "sessionLifetimeSeconds">): Date {
  return new Date(createdAt.getTime() + settings.sessionLifetimeSeconds * 1000);
}

type Rotation = { kind: "rotated"; pair: RefreshResponse } | { kind: "revoked" } | { kind: "spent" };

/**
 * POST /refresh: rotates the refresh token (one use each) and signs a new access token.
 * - TTLs and the session lifetime are the organization's settings NOW (from the key): a settings
 *   change applies to existing sessions at their next refresh. Nothing outlives sign-in + the
 *   session lifetime: the new refresh and access tokens expire by then at the latest, and a
 *   session past it answers 401 `session_expired`.
 * - Locks: the session row first (FOR UPDATE), then its refresh tokens — the order logout, theft
 *   revocation and guest upgrade use — so refresh and logout never deadlock.
 * - The response pair is stored (sealed) with the spent token in the same transaction. The same
 *   spent token presented again within REFRESH_REUSE_GRACE_SECONDS (concurrent tabs, a retry after
 *   a lost response or a failure after the commit) gets the SAME pair; nothing of this depends on
 *   Redis. Later reuse means theft: the whole session is revoked and
 *   `sessions.v1.refresh_token_reuse_detected` + `sessions.v1.revoked` are published.
 * - Tokens of another organization or mode than the publishable key are refused as invalid.
 */
export async function refreshSession(deps: AppDeps, input: { key: VerifiedKey; refreshToken: string }): Promise<RefreshResponse> {
  const token = input.refreshToken;
  if (!REFRESH_TOKEN_PATTERN.test(token)) throw appError(ErrorCatalog.invalidRefreshToken);
  const hash = hashRefreshToken(token);
  const row = await deps.prisma.refreshToken.findFirst({ where: { tokenHash: hash }, include: { session: true } });
  if (!row) throw appError(ErrorCatalog.invalidRefreshToken);
  const session = row.session;
  if (session.organizationId !== input.key.organizationId || session.mode !== input.key.mode)
    throw appError(ErrorCatalog.invalidRefreshToken);
  if (session.revokedAt || row.revokedAt) throw appError(ErrorCatalog.sessionRevoked);
  const settings = input.key.settings;
  const graceMs = deps.env.REFRESH_REUSE_GRACE_SECONDS * 1000;
  const now = new Date();
  const endsAt = sessionEndsAt(session.createdAt, settings);
  const remaining = Math.floor((endsAt.getTime() - now.getTime()) / 1000);
  if (remaining <= 0) throw appError(ErrorCatalog.sessionExpired);
  if (row.expiresAt <= now) throw appError(ErrorCatalog.refreshTokenExpired);

  if (!row.usedAt) {
    const scope = { organizationId: session.organizationId, mode: session.mode as Mode };
    const accessTtl = Math.min(deps.tokens.accessTtl(settings.accessTokenTtlSeconds), remaining);
    const refreshTtl = settings.refreshTokenTtlSeconds;
    const next = newRefreshToken();
    const nextExpiresAt = new Date(Math.min(now.getTime() + refreshTtl * 1000, endsAt.getTime()));
    // Signed before the transaction, so that the exact pair is stored with the spent token.
    const access = await deps.tokens.sign(
      { consumerId: session.consumerId, organizationId: session.organizationId, sessionId: session.id, mode: scope.mode },
      accessTtl,
    );
    const pair: RefreshResponse = {
      accessToken: access.token,
      refreshToken: next.token,
      accessTokenExpiresAt: new Date(access.exp * 1000).toISOString(),
      refreshTokenExpiresAt: nextExpiresAt.toISOString(),
    };
    const outcome = await deps.prisma.$transaction(async (tx): Promise<Rotation> => {
      const locked = await tx.$queryRaw<Array<{ revoked_at: Date | null }>>`
        SELECT revoked_at FROM sessions WHERE id = ${session.id} FOR UPDATE`;
      if (!locked[0] || locked[0].revoked_at) return { kind: "revoked" };
      // The claim: only one request can flip used_at from NULL.
      const { count } = await tx.refreshToken.updateMany({
        where: { id: row.id, usedAt: null, revokedAt: null },
        // The grace counts from the rotation itself (after any wait for the lock).
        data: { usedAt: new Date(), successorSealed: graceMs > 0 ? sealPair(token, pair) : null },
      });
      if (count === 0) return { kind: "spent" };
      await tx.refreshToken.create({
        data: { id: `rtk_${ulid()}`, sessionId: session.id, tokenHash: next.hash, parentId: row.id, expiresAt: nextExpiresAt },
      });
      // Settings read now become the session's; access_expires_at only grows (revocation marker TTL).
      await tx.$executeRaw`
        UPDATE sessions SET last_refreshed_at = ${now}::timestamptz, access_token_ttl_seconds = ${accessTtl}::int,
          refresh_token_ttl_seconds = ${refreshTtl}::int,
          access_expires_at = GREATEST(access_expires_at, ${new Date(access.exp * 1000)}::timestamptz)
        WHERE id = ${session.id}`;
      const data: SessionRefreshedData = { sessionId: session.id, consumerId: session.consumerId };
      await tx.outboxEvent.create({ data: outboxData(newEvent(EventType.sessionRefreshed, scope, data)) });
      return { kind: "rotated", pair };
    });
    if (outcome.kind === "rotated") {
      deps.relay.kick();
      return outcome.pair;
    }
    if (outcome.kind === "revoked") throw appError(ErrorCatalog.sessionRevoked);
  }

  // The token was already spent (possibly by a request racing with this one, now committed).
  const spent = await deps.prisma.refreshToken.findFirst({ where: { id: row.id }, include: { session: true } });
  if (!spent?.usedAt) throw appError(ErrorCatalog.invalidRefreshToken);
  if (spent.session.revokedAt || spent.revokedAt) throw appError(ErrorCatalog.sessionRevoked);
  if (Date.now() - spent.usedAt.getTime() <= graceMs) {
    const pair = openPair(token, spent.successorSealed);
    if (pair) return pair;
    // Spent before the pair was stored with it (older rows): refuse without alarm.
    throw appError(ErrorCatalog.invalidRefreshToken);
  }

  // Reuse after the grace window: treat as theft.
  const scope = { organizationId: session.organizationId, mode: session.mode as Mode };
  refreshReuseMetric(deps.metrics.registry).inc();
  const reuse: RefreshTokenReuseDetectedData = { sessionId: session.id, consumerId: session.consumerId, refreshTokenId: row.id };
  await revokeSession(deps, {
    session: spent.session,
    reason: "refresh_token_reuse",
    extraEvents: [newEvent(EventType.refreshTokenReuseDetected, scope, reuse)],
  });
  deps.logger.warn({ sessionId: session.id, organizationId: session.organizationId }, "refresh token reuse detected; session revoked");
  throw appError(ErrorCatalog.refreshTokenReused);
}
