import type { AppDeps } from "../deps.js";
import type { AccessTokenClaims } from "../tokens/token-service.js";

export type { AccessTokenClaims };

export { revokedSessionKey } from "../tokens/revocations.js";

/**
 * Verifies a bearer access token: EdDSA signature with a live signing key, issuer, exp, and not
 * revoked (one Redis MGET; Postgres only to rebuild a revoked set Redis lost). Returns the claims,
 * or null for any bad token. Throws (503) when Redis cannot be asked (at once while it is down).
 */
export async function verifyAccessToken(deps: Pick<AppDeps, "tokens" | "revocations">, token: string): Promise<AccessTokenClaims | null> {
  const claims = await deps.tokens.verify(token);
  if (!claims) return null;
  return (await deps.revocations.isRevoked(claims.sessionId)) ? null : claims;
}

/** The bearer token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
