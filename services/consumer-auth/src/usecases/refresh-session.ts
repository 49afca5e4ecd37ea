import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import {
  EventType,
  type Mode,
  type RefreshResponse,
  type RefreshTokenReuseDetectedData,
  type SessionRefreshedData,
  type VerifiedKey,
} from "@authplane/contracts";
import { newEvent, ulid } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { outboxData } from "../events/outbox.js";
import { hashRefreshToken, newRefreshToken } from "./issue-session.js";
import { revokeSession } from "./revoke-session.js";

export const REFRESH_TOKEN_PATTERN = /^rt_[A-Za-z0-9_-]{43}$/;

/** How long a concurrent request waits for the winner of a rotation race to publish its pair. */
const GRACE_WAIT_MS = 2_000;

function graceKey(hash: string): string {
  return `rt:grace:${hash}`;
}

/**
 * The pair issued for a spent token is kept in Redis for the grace window, encrypted with a key
 * derived from the spent token itself: Redis alone never holds a usable token, and only a caller
 * presenting the old token can read it.
 */
function sealPair(oldToken: string, pair: RefreshResponse): string {
  const key = createHash("sha256").update(`grace:${oldToken}`).digest();
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([c.update(JSON.stringify(pair), "utf8"), c.final()]);
  return [iv, c.getAuthTag(), ct].map((b) => b.toString("base64url")).join(".");
}

function openPair(oldToken: string, sealed: string): RefreshResponse | null {
  try {
    const [iv, tag, ct] = sealed.split(".");
    if (!iv || !tag || !ct) return null;
    const key = createHash("sha256").update(`grace:${oldToken}`).digest();
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    d.setAuthTag(Buffer.from(tag, "base64url"));
    return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8")) as RefreshResponse;
  } catch {
    return null;
  }
}

/**
 * POST /refresh: rotates the refresh token (one use each) and signs a new access token.
 * - A token spent less than REFRESH_REUSE_GRACE_SECONDS ago returns the SAME pair the first use got
 *   (concurrent tabs); later reuse means theft: the whole session is revoked and
 *   `sessions.v1.refresh_token_reuse_detected` + `sessions.v1.revoked` are published.
 * - Tokens of another organization or mode than the publishable key are refused as invalid.
 */
export async function refreshSession(deps: AppDeps, input: { key: VerifiedKey; refreshToken: string }): Promise<RefreshResponse> {
  const token = input.refreshToken;
  if (!REFRESH_TOKEN_PATTERN.test(token)) throw appError(ErrorCatalog.invalidRefreshToken);
  const hash = hashRefreshToken(token);
  const row = await deps.prisma.refreshToken.findUnique({ where: { tokenHash: hash }, include: { session: true } });
  if (!row) throw appError(ErrorCatalog.invalidRefreshToken);
  const session = row.session;
  if (session.organizationId !== input.key.organizationId || session.mode !== input.key.mode)
    throw appError(ErrorCatalog.invalidRefreshToken);
  if (session.revokedAt || row.revokedAt) throw appError(ErrorCatalog.sessionRevoked);
  const now = new Date();
  if (row.expiresAt <= now) throw appError(ErrorCatalog.refreshTokenExpired);
  const scope = { organizationId: session.organizationId, mode: session.mode as Mode };
  const graceMs = deps.env.REFRESH_REUSE_GRACE_SECONDS * 1000;

  if (!row.usedAt) {
    const next = newRefreshToken();
    const nextExpiresAt = new Date(now.getTime() + session.refreshTokenTtlSeconds * 1000);
    const won = await deps.prisma.$transaction(async (tx) => {
      // The claim: only one request can flip used_at from NULL.
      const { count } = await tx.refreshToken.updateMany({ where: { id: row.id, usedAt: null, revokedAt: null }, data: { usedAt: now } });
      if (count === 0) return false;
      await tx.refreshToken.create({
        data: { id: `rtk_${ulid()}`, sessionId: session.id, tokenHash: next.hash, parentId: row.id, expiresAt: nextExpiresAt },
      });
      await tx.session.update({ where: { id: session.id }, data: { lastRefreshedAt: now } });
      const data: SessionRefreshedData = { sessionId: session.id, consumerId: session.consumerId };
      await tx.outboxEvent.create({ data: outboxData(newEvent(EventType.sessionRefreshed, scope, data)) });
      return true;
    });
    if (won) {
      deps.relay.kick();
      const access = await deps.tokens.sign(
        { consumerId: session.consumerId, organizationId: session.organizationId, sessionId: session.id, mode: scope.mode },
        session.accessTokenTtlSeconds,
      );
      const pair: RefreshResponse = {
        accessToken: access.token,
        refreshToken: next.token,
        accessTokenExpiresAt: new Date(access.exp * 1000).toISOString(),
        refreshTokenExpiresAt: nextExpiresAt.toISOString(),
      };
      if (graceMs > 0) await deps.redis.set(graceKey(hash), sealPair(token, pair), "PX", graceMs);
      return pair;
    }
  }

  // The token was already spent (possibly by a request racing with this one).
  const spent = await deps.prisma.refreshToken.findUnique({ where: { id: row.id }, include: { session: true } });
  if (!spent?.usedAt) throw appError(ErrorCatalog.invalidRefreshToken);
  if (spent.session.revokedAt || spent.revokedAt) throw appError(ErrorCatalog.sessionRevoked);
  if (Date.now() - spent.usedAt.getTime() <= graceMs) {
    const deadline = Date.now() + GRACE_WAIT_MS;
    for (;;) {
      const sealed = await deps.redis.get(graceKey(hash));
      const pair = sealed ? openPair(token, sealed) : null;
      if (pair) return pair;
      if (Date.now() > deadline) throw appError(ErrorCatalog.invalidRefreshToken);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // Reuse after the grace window: treat as theft.
  const reuse: RefreshTokenReuseDetectedData = { sessionId: session.id, consumerId: session.consumerId, refreshTokenId: row.id };
  await revokeSession(deps, {
    session,
    reason: "refresh_token_reuse",
    extraEvents: [newEvent(EventType.refreshTokenReuseDetected, scope, reuse)],
  });
  deps.logger.warn({ sessionId: session.id, organizationId: session.organizationId }, "refresh token reuse detected; session revoked");
  throw appError(ErrorCatalog.refreshTokenReused);
}
