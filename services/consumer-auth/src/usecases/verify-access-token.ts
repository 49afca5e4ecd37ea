import type { AppDeps } from "../deps.js";
import type { AccessTokenClaims } from "../tokens/token-service.js";

export type { AccessTokenClaims };

/** Redis key marking a session revoked until its last access token expires. */
export function revokedSessionKey(sessionId: string): string {
  return `revoked:sess:${sessionId}`;
}

/**
 * Verifies a bearer access token: EdDSA signature with a live signing key, issuer, exp, and not
 * revoked (one Redis EXISTS; no Postgres). Returns the claims, or null for any bad token.
 * Throws (503) only when Redis cannot be asked.
 */
export async function verifyAccessToken(deps: Pick<AppDeps, "tokens" | "redis">, token: string): Promise<AccessTokenClaims | null> {
  const claims = await deps.tokens.verify(token);
  if (!claims) return null;
  const revoked = await deps.redis.exists(revokedSessionKey(claims.sessionId));
  return revoked ? null : claims;
}

/** The bearer token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
