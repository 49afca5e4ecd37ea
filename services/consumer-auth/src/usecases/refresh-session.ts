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

/** The presented token and its session, read in one round trip (`deps.db`, named prepared statement). */
const READ_TOKEN = {
  name: "consumer_auth_refresh_read",
  text: `SELECT rt.id, rt.expires_at, rt.used_at, rt.revoked_at, s.id AS session_id, s.organization_id, s.mode,
      s.consumer_id, s.created_at AS session_created_at, s.revoked_at AS session_revoked_at
    FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
    WHERE rt.token_hash = $1`,
};
interface TokenRow {
  id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  session_id: string;
  organization_id: string;
  mode: string;
  consumer_id: string;
  session_created_at: Date;
  session_revoked_at: Date | null;
}

/**
 * The rotation in ONE statement (data-modifying CTEs run in one implicit transaction, one round
 * trip): lock the session row (`s`, FOR UPDATE), claim the token (only one request can flip
 * used_at from NULL; the successor pair is stored sealed with it), insert the successor, update
 * the session, write the outbox event. Lock order as before: the claim joins `s`, so the token row
 * is locked (updated) only after the session row, the order logout, theft revocation and guest
 * upgrade use. A claim racing another one waits for it and re-checks `used_at IS NULL` against the
 * committed row (READ COMMITTED), so exactly one wins. `live` is NULL when the session is gone.
 */
const ROTATE = {
  name: "consumer_auth_refresh_rotate",
  text: `WITH s AS (
      SELECT id, revoked_at FROM sessions WHERE id = $1 FOR UPDATE),
    claim AS (
      UPDATE refresh_tokens rt SET used_at = $3::timestamptz, successor_sealed = $4
      FROM s
      WHERE rt.id = $2 AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND s.revoked_at IS NULL
      RETURNING rt.id),
    successor AS (
      INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id, expires_at)
      SELECT $5, $1, $6, claim.id, $7::timestamptz FROM claim
      RETURNING id),
    sess AS (
      UPDATE sessions SET last_refreshed_at = $8::timestamptz, access_token_ttl_seconds = $9::int,
        refresh_token_ttl_seconds = $10::int, access_expires_at = GREATEST(access_expires_at, $11::timestamptz)
      WHERE id = $1 AND EXISTS (SELECT 1 FROM claim)
      RETURNING id),
    event AS (
      INSERT INTO outbox_events (id, type, payload) SELECT $12, $13, $14::jsonb FROM claim
      RETURNING id)
    SELECT (SELECT revoked_at IS NULL FROM s) AS live, (SELECT count(*)::int FROM claim) AS claimed`,
};

/**
 * POST /refresh: rotates the refresh token (one use each) and signs a new access token.
 * - TTLs and the session lifetime are the organization's settings NOW (from the key): a settings
 *   change applies to existing sessions at their next refresh. Nothing outlives sign-in + the
 *   session lifetime: the new refresh and access tokens expire by then at the latest, and a
 *   session past it answers 401 `session_expired`.
 * - Two round trips to Postgres on the normal path (the read, then ROTATE), both named prepared
 *   statements on the pg pool under Prisma: the interactive transaction this replaced took eight
 *   (BEGIN, lock, claim, insert, update, outbox, COMMIT) and most of the request's CPU.
 * - The response pair is stored (sealed) with the spent token in the same statement. The same
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
  const read = await deps.db.query<TokenRow>({ name: READ_TOKEN.name, text: READ_TOKEN.text, values: [hash] });
  const row = read.rows[0];
  if (!row) throw appError(ErrorCatalog.invalidRefreshToken);
  if (row.organization_id !== input.key.organizationId || row.mode !== input.key.mode) throw appError(ErrorCatalog.invalidRefreshToken);
  if (row.session_revoked_at || row.revoked_at) throw appError(ErrorCatalog.sessionRevoked);
  const settings = input.key.settings;
  const graceMs = deps.env.REFRESH_REUSE_GRACE_SECONDS * 1000;
  const now = new Date();
  const endsAt = sessionEndsAt(row.session_created_at, settings);
  const remaining = Math.floor((endsAt.getTime() - now.getTime()) / 1000);
  if (remaining <= 0) throw appError(ErrorCatalog.sessionExpired);
  if (row.expires_at <= now) throw appError(ErrorCatalog.refreshTokenExpired);
  const scope = { organizationId: row.organization_id, mode: row.mode as Mode };

  if (!row.used_at) {
    const accessTtl = Math.min(deps.tokens.accessTtl(settings.accessTokenTtlSeconds), remaining);
    const refreshTtl = settings.refreshTokenTtlSeconds;
    const next = newRefreshToken();
    const nextExpiresAt = new Date(Math.min(now.getTime() + refreshTtl * 1000, endsAt.getTime()));
    // Signed before the rotation, so that the exact pair is stored with the spent token.
    const access = await deps.tokens.sign(
      { consumerId: row.consumer_id, organizationId: row.organization_id, sessionId: row.session_id, mode: scope.mode },
      accessTtl,
    );
    const pair: RefreshResponse = {
      accessToken: access.token,
      refreshToken: next.token,
      accessTokenExpiresAt: new Date(access.exp * 1000).toISOString(),
      refreshTokenExpiresAt: nextExpiresAt.toISOString(),
    };
    const data: SessionRefreshedData = { sessionId: row.session_id, consumerId: row.consumer_id };
    const event = newEvent(EventType.sessionRefreshed, scope, data);
    // The grace counts from here (the rotation is sent now; a wait for the session lock only
    // shortens the window, never lengthens it).
    const usedAt = new Date();
    const values = [
      row.session_id,
      row.id,
      usedAt,
      graceMs > 0 ? sealPair(token, pair) : null,
      `rtk_${ulid()}`,
      next.hash,
      nextExpiresAt,
      now,
      accessTtl,
      refreshTtl,
      new Date(access.exp * 1000),
      event.id,
      event.type,
      JSON.stringify(event),
    ];
    const rotated = await deps.db.query<{ live: boolean | null; claimed: number }>({ name: ROTATE.name, text: ROTATE.text, values });
    const outcome = rotated.rows[0];
    if (outcome?.claimed === 1) {
      deps.relay.kick();
      return pair;
    }
    if (!outcome?.live) throw appError(ErrorCatalog.sessionRevoked);
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
  refreshReuseMetric(deps.metrics.registry).inc();
  const reuse: RefreshTokenReuseDetectedData = { sessionId: row.session_id, consumerId: row.consumer_id, refreshTokenId: row.id };
  await revokeSession(deps, {
    session: spent.session,
    reason: "refresh_token_reuse",
    extraEvents: [newEvent(EventType.refreshTokenReuseDetected, scope, reuse)],
  });
  deps.logger.warn({ sessionId: row.session_id, organizationId: row.organization_id }, "refresh token reuse detected; session revoked");
  throw appError(ErrorCatalog.refreshTokenReused);
}
