import type { Mode } from "@authplane/contracts";
import { ulid } from "@authplane/service-kit";
import { decodeJwt, type JWK, jwtVerify, SignJWT } from "jose";
import type { Env } from "../env.js";
import { AccessTokenClaims, tokenAudience } from "./access-token-claims.js";
import { SigningKeyRing, type SigningKeyRingOptions, type WithdrawResult } from "./signing-key-ring.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";

export interface TokenServiceOptions extends SigningKeyRingOptions {
  env: SigningKeyRingOptions["env"] & Pick<Env, "TOKEN_ISSUER" | "TOKEN_CACHE_MAX_ENTRIES" | "TOKEN_CACHE_TTL_SECONDS">;
}

/** Longest token string even looked at (a bigger Authorization header is no access token of ours). */
const MAX_TOKEN_LENGTH = 4096;

/**
 * Signs and verifies EdDSA (Ed25519) access tokens. The keys come from the `SigningKeyRing`
 * (Postgres, reloaded on every instance); verified tokens are kept in a `VerifiedTokenCache`
 * so a repeat check skips the signature work. Key management calls (rotate, withdraw, JWKS…) are
 * the ring's, exposed here so that callers hold one object.
 */
export class TokenService {
  readonly keys: SigningKeyRing;
  private readonly cache: VerifiedTokenCache;

  constructor(private readonly opts: TokenServiceOptions) {
    this.keys = new SigningKeyRing(opts);
    this.cache = new VerifiedTokenCache(opts.env.TOKEN_CACHE_MAX_ENTRIES, opts.env.TOKEN_CACHE_TTL_SECONDS);
  }

  /** Loads the keys, creating the first one (under an advisory lock) when none is active. */
  init(): Promise<void> {
    return this.keys.init();
  }

  /** Periodic reload + scheduled rotation, and reload on the NATS announcement. */
  start(): void {
    this.keys.start();
  }

  stop(): void {
    this.keys.stop();
    this.cache.clear();
  }

  reload(): Promise<void> {
    return this.keys.reload();
  }

  rotate(opts: { onlyIfDue?: boolean; activateNow?: boolean } = {}): Promise<string> {
    return this.keys.rotate(opts);
  }

  withdraw(kid: string): Promise<WithdrawResult> {
    return this.keys.withdraw(kid);
  }

  jwks(): { keys: JWK[] } {
    return this.keys.jwks();
  }

  /** The kid that signs now (null if none: not initialised, or every key withdrawn elsewhere). */
  get activeKid(): string | null {
    return this.keys.activeKid;
  }

  /** Seconds between a rotated-in key's publication and its first signature. */
  get activationDelaySeconds(): number {
    return this.keys.activationDelaySeconds;
  }

  /** Number of verified tokens held in memory (for tests and diagnostics). */
  get cachedTokenCount(): number {
    return this.cache.size;
  }

  /** Clamps an organization's access-token TTL to the service maximum (which bounds JWKS retention). */
  accessTtl(settingsTtl: number): number {
    return Math.min(settingsTtl, this.opts.env.MAX_ACCESS_TOKEN_TTL_SECONDS);
  }

  async sign(
    claims: { consumerId: string; organizationId: string; sessionId: string; mode: Mode },
    ttlSeconds: number,
  ): Promise<{ token: string; exp: number; iat: number }> {
    const now = Date.now();
    const active = this.keys.signerAt(now);
    if (!active?.privateKey) throw new Error("no active signing key (TokenService.init not called?)");
    const iat = Math.floor(now / 1000);
    const exp = iat + this.accessTtl(ttlSeconds);
    // jose builds and signs the JWS (the contract says "EdDSA JWTs via jose"): no hand-rolled framing.
    const token = await new SignJWT({
      consumerId: claims.consumerId,
      organizationId: claims.organizationId,
      sessionId: claims.sessionId,
      mode: claims.mode,
    })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: active.kid })
      .setSubject(claims.consumerId)
      .setIssuer(this.opts.env.TOKEN_ISSUER)
      .setAudience(tokenAudience(claims))
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(ulid())
      .sign(active.privateKey);
    return { token, exp, iat };
  }

  /**
   * Verifies signature (EdDSA only, known kid of a usable key), issuer, typ and exp. Returns the
   * claims or null; never throws for a bad token. Revocation is checked by the caller (Redis).
   */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const hit = this.cache.get(token, (kid, now) => this.keys.accepts(kid, now));
    if (hit) return hit;
    const verified = await this.verifyAt(token);
    if (!verified) return null;
    this.cache.remember(token, verified.kid, verified.claims);
    return verified.claims;
  }

  /**
   * Like `verify`, but a token that has merely expired (signature, kid, issuer and claims all
   * valid) is returned too, with `expired: true`. For the few endpoints where a lapsed token
   * only identifies its session (guest upgrade, logout); the caller must then check that the
   * session is still alive (see `verifySessionToken`). Expired tokens are never cached, and a
   * token signed by a key no longer published is refused as in `verify`.
   */
  async verifyAllowingExpiry(token: string): Promise<{ claims: AccessTokenClaims; expired: boolean } | null> {
    const claims = await this.verify(token);
    if (claims) return { claims, expired: false };
    if (token.length > MAX_TOKEN_LENGTH) return null;
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      return null;
    }
    // Not expired: `verify` refused it for another reason.
    if (typeof exp !== "number" || !Number.isSafeInteger(exp) || exp * 1000 > Date.now()) return null;
    // Everything is checked as usual, only as of one second before `exp`.
    const verified = await this.verifyAt(token, new Date((exp - 1) * 1000));
    return verified ? { claims: verified.claims, expired: true } : null;
  }

  /** Full verification (jose), as of `currentDate` (default now). */
  private async verifyAt(token: string, currentDate?: Date): Promise<{ claims: AccessTokenClaims; kid: string } | null> {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.keys.publicKeyFor(header.kid);
          if (!key) throw new Error("unknown kid");
          return key;
        },
        {
          algorithms: ["EdDSA"],
          issuer: this.opts.env.TOKEN_ISSUER,
          typ: "JWT",
          requiredClaims: ["exp", "iat", "sub"],
          clockTolerance: 5,
          ...(currentDate ? { currentDate } : {}),
        },
      );
      const parsed = AccessTokenClaims.safeParse(payload);
      if (!parsed.success || parsed.data.sub !== parsed.data.consumerId) return null;
      if (parsed.data.aud !== undefined && parsed.data.aud !== tokenAudience(parsed.data)) return null;
      return { claims: parsed.data, kid: protectedHeader.kid ?? "" };
    } catch {
      return null;
    }
  }
}
