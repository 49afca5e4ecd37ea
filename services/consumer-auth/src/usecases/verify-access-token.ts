import type { OrganizationSettings } from "@authplane/contracts";
import type { AppDeps } from "../deps.js";
import type { PrefetchedRevocation } from "../limits/request-gate.js";
import type { AccessTokenClaims } from "../tokens/access-token-claims.js";

export type { AccessTokenClaims };

export { revokedSessionKey } from "../tokens/revocations.js";

/**
 * Verifies a bearer access token: EdDSA signature with a live signing key, issuer, exp, and not
 * revoked (one Redis MGET; Postgres only to rebuild a revoked set Redis lost). Returns the claims,
 * or null for any bad token. Throws (503) when Redis cannot be asked (at once while it is down).
 */
export async function verifyAccessToken(
  deps: Pick<AppDeps, "tokens" | "revocations">,
  token: string,
  /** The revocation markers already read for the token's session in the request's first Redis round trip (RequestGate). */
  prefetched?: PrefetchedRevocation | null,
): Promise<AccessTokenClaims | null> {
  const claims = await deps.tokens.verify(token);
  if (!claims) return null;
  return (await deps.revocations.isRevoked(claims.sessionId, prefetched)) ? null : claims;
}

/**
 * The session an access token identifies, for guest upgrade (OTP verify, exchange) and logout,
 * where a token that has merely expired must not lock its holder out: a browser tab woken after
 * an hour still holds the guest's token, and ending a session must always be possible.
 *
 * An unexpired token is checked exactly as `verifyAccessToken` does. An expired one must still be
 * validly signed (by a key still published), of our issuer, and its session must still be alive
 * in Postgres: not revoked, of the token's organization, mode and consumer, and still refreshable
 * (an unspent, unrevoked, unexpired refresh token, and within the organization's current absolute
 * session lifetime when `settings` are given). So a lapsed token identifies its session
 * exactly as long as its refresh token could have renewed it, and never after a logout or a
 * theft revocation (the Redis marker expires with the access tokens; Postgres keeps `revoked_at`).
 */
export async function verifySessionToken(
  deps: Pick<AppDeps, "tokens" | "revocations" | "prisma">,
  token: string,
  /** The organization's current settings, when known: the session must also be within its absolute lifetime. */
  settings?: Pick<OrganizationSettings, "sessionLifetimeSeconds">,
): Promise<AccessTokenClaims | null> {
  const verified = await deps.tokens.verifyAllowingExpiry(token);
  if (!verified) return null;
  const { claims } = verified;
  if (!verified.expired) return (await deps.revocations.isRevoked(claims.sessionId)) ? null : claims;
  // Expired: the Redis marker may be gone with the session's access tokens; Postgres is the record.
  const now = Date.now();
  // As refresh does (sessionEndsAt): sign-in + the CURRENT lifetime, even if it was shortened since.
  const signedInAfter = settings ? { createdAt: { gt: new Date(now - settings.sessionLifetimeSeconds * 1000) } } : {};
  const alive = await deps.prisma.refreshToken.findFirst({
    where: {
      sessionId: claims.sessionId,
      usedAt: null,
      revokedAt: null,
      expiresAt: { gt: new Date(now) },
      session: {
        revokedAt: null,
        organizationId: claims.organizationId,
        mode: claims.mode,
        consumerId: claims.consumerId,
        ...signedInAfter,
      },
    },
    select: { id: true },
  });
  return alive ? claims : null;
}
