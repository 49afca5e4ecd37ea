import { LRUCache } from "lru-cache";
import type { AccessTokenClaims } from "./access-token-claims.js";

interface CachedToken {
  claims: Readonly<AccessTokenClaims>;
  kid: string;
  /** Epoch ms; never later than the token's `exp`. */
  until: number;
}

/**
 * Tokens whose signature, issuer and claims were verified, keyed by the whole token string, at most
 * `maxEntries` (least recently used evicted first; 0 disables). Only successful verifications
 * enter it, so a token differing in any byte (tampered) is verified in full. Revocation is never
 * cached here. Expiry is checked against `Date.now()` at each hit (not lru-cache's own TTL clock),
 * and a hit counts only while the caller still accepts its signing key.
 */
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, CachedToken> | null;

  constructor(
    maxEntries: number,
    private readonly ttlSeconds: number,
  ) {
    this.cache = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : null;
  }

  /** The cached claims, if the entry is still within its time and `keyUsable(kid)` holds. */
  get(token: string, keyUsable: (kid: string, now: number) => boolean): Readonly<AccessTokenClaims> | null {
    const hit = this.cache?.get(token);
    if (!hit) return null;
    const now = Date.now();
    if (hit.until > now && keyUsable(hit.kid, now)) return hit.claims;
    this.cache?.delete(token);
    return null;
  }

  /** Caches a verified token until min(exp, now + TOKEN_CACHE_TTL_SECONDS). */
  remember(token: string, kid: string, claims: AccessTokenClaims): void {
    if (!this.cache) return;
    const now = Date.now();
    const until = Math.min(claims.exp * 1000, now + this.ttlSeconds * 1000);
    // Inside the verify clock tolerance (already expired): verified, but never cached.
    if (until <= now) return;
    this.cache.set(token, { claims: Object.freeze({ ...claims }), kid, until });
  }

  clear(): void {
    this.cache?.clear();
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }
}
