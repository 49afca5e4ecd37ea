import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { IdPrefix, Mode } from "@authplane/contracts";
import { type Logger, type NatsConnection, ulid } from "@authplane/service-kit";
import { decodeJwt, type JWK, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { type Env, signingKeyActivationDelaySeconds } from "../env.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { decryptPrivateKey, encryptPrivateKey } from "./key-encryption.js";

/** Claims of a consumer access token (see README "Token format"). */
export const AccessTokenClaims = z.object({
  consumerId: z.string().min(1),
  organizationId: z.string().min(1),
  sessionId: z.string().startsWith(IdPrefix.session),
  mode: Mode,
  sub: z.string().min(1),
  iss: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().optional(),
  /** `<organizationId>:<mode>` (see tokenAudience); absent only on tokens signed before it was added. */
  aud: z.string().optional(),
});
export type AccessTokenClaims = z.infer<typeof AccessTokenClaims>;

interface PublicEntry {
  kid: string;
  key: KeyObject;
  jwk: JWK;
  createdAt: Date;
  /** From when the key signs (published in the JWKS since createdAt, i.e. earlier for a rotated-in key). */
  activatesAt: Date;
  /**
   * When the key stops signing (its successor's activatesAt; may be in the future), null while it
   * has no successor. Tokens of a retired key verify until retiredAt + max TTL.
   */
  retiredAt: Date | null;
  /** Loaded for keys that sign now or may sign later (not yet retired). */
  privateKey: KeyObject | null;
}

/** What `withdraw` did. */
export interface WithdrawResult {
  kid: string;
  alreadyWithdrawn: boolean;
  /** The key that signs from now on when the withdrawn key was the signing one, else null. */
  replacementKid: string | null;
}

export class UnknownSigningKeyError extends Error {
  constructor(kid: string) {
    super(`no such signing key: ${kid}`);
    this.name = "UnknownSigningKeyError";
  }
}

interface CachedToken {
  claims: Readonly<AccessTokenClaims>;
  kid: string;
  /** Epoch ms; never later than the token's `exp`. */
  until: number;
}

export interface TokenServiceOptions {
  prisma: PrismaClient;
  env: Pick<
    Env,
    | "SIGNING_KEY_ENCRYPTION_KEY"
    | "SIGNING_KEY_ROTATION_DAYS"
    | "SIGNING_KEY_REFRESH_SECONDS"
    | "JWKS_MAX_AGE_SECONDS"
    | "SIGNING_KEY_PUBLISH_MARGIN_SECONDS"
    | "MAX_ACCESS_TOKEN_TTL_SECONDS"
    | "TOKEN_ISSUER"
    | "DATABASE_SCHEMA"
    | "TOKEN_CACHE_MAX_ENTRIES"
    | "TOKEN_CACHE_TTL_SECONDS"
  >;
  logger: Logger;
  /**
   * When given, a rotation or withdrawal is announced on `signingKeysChangedSubject` (core NATS)
   * and every instance reloads at once instead of at its next periodic refresh.
   */
  nats?: { nc: NatsConnection; subject: string };
}

/**
 * The `aud` of an access token: `<organizationId>:<mode>`. A verifier holding the JWKS binds a token
 * to its own organization and mode with `jwtVerify(…, { audience: "org_…:live" })`.
 */
export function tokenAudience(claims: { organizationId: string; mode: Mode }): string {
  return `${claims.organizationId}:${claims.mode}`;
}

/** Internal core-NATS subject announcing a new or withdrawn signing key (payload: kid). Not part of the event stream. */
export function signingKeysChangedSubject(prefix: string): string {
  return `${prefix}consumer-auth.v1.signing-keys.changed`;
}

/** How long a retired key stays published beyond the longest token life (JWKS caches, clock skew). */
const RETIRED_KEY_EXTRA_SECONDS = 600;
/** An unknown `kid` triggers at most one reload from Postgres per this interval (no DB flood by forged kids). */
const UNKNOWN_KID_RELOAD_MS = 200;

/**
 * Signs and verifies EdDSA (Ed25519) access tokens with the signing keys kept in Postgres.
 * Keys are cached in memory as KeyObjects (no DB or decryption on the hot path); every instance
 * reloads them periodically (and at once on the NATS announcement), so all instances agree on the
 * signing key: the one whose [activatesAt, retiredAt) holds now. A rotated-in key is published
 * in the JWKS at creation but signs only after `signingKeyActivationDelaySeconds`; a withdrawn
 * key is neither published nor accepted.
 */
export class TokenService {
  private publics = new Map<string, PublicEntry>();
  /** Keys holding a private key, newest activation first (sign picks the first one active now). */
  private signers: PublicEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastReload = 0;
  private reloading: Promise<void> | null = null;
  private sub: ReturnType<NatsConnection["subscribe"]> | null = null;
  /**
   * Tokens whose signature, issuer and claims were verified, keyed by the whole token string, in
   * least-recently-used order (Map insertion order). Only successful verifications enter it, so a
   * token differing in any byte (tampered) is verified in full. Revocation is not cached here.
   */
  private readonly verified = new Map<string, CachedToken>();

  constructor(private readonly opts: TokenServiceOptions) {}

  /** Loads the keys, creating the first one (under an advisory lock) when none is active. */
  async init(): Promise<void> {
    await this.reload();
    if (!this.signerAt(Date.now())) await this.ensureSigner();
  }

  /** Periodic reload + scheduled rotation. */
  start(): void {
    if (this.timer) return;
    const tick = async () => {
      try {
        await this.reload();
        // No key signs now (every candidate withdrawn or retired): one that signs at once, under the lock.
        if (!this.signerAt(Date.now())) await this.ensureSigner();
        else if (this.rotationDue()) await this.rotate({ onlyIfDue: true });
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, "signing key refresh failed");
      }
    };
    this.timer = setInterval(() => void tick(), this.opts.env.SIGNING_KEY_REFRESH_SECONDS * 1000);
    this.timer.unref();
    const nats = this.opts.nats;
    if (nats) {
      this.sub = nats.nc.subscribe(nats.subject, {
        callback: () => {
          void this.reloadShared().catch((err: Error) => this.opts.logger.warn({ err: err.message }, "signing key reload failed"));
        },
      });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.unsubscribe();
    this.sub = null;
    this.verified.clear();
  }

  /** One reload at a time, shared by concurrent callers. */
  private reloadShared(): Promise<void> {
    this.reloading ??= this.reload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** The kid that signs now (null if none: not initialised, or every key withdrawn elsewhere). */
  get activeKid(): string | null {
    return this.signerAt(Date.now())?.kid ?? null;
  }

  /** Seconds between a rotated-in key's publication and its first signature. */
  get activationDelaySeconds(): number {
    return signingKeyActivationDelaySeconds(this.opts.env);
  }

  private signerAt(now: number): PublicEntry | null {
    for (const e of this.signers) {
      if (e.activatesAt.getTime() <= now && (!e.retiredAt || e.retiredAt.getTime() > now)) return e;
    }
    return null;
  }

  /** Due when the newest key (pending ones included) is SIGNING_KEY_ROTATION_DAYS old. */
  private rotationDue(): boolean {
    let newest = 0;
    for (const e of this.publics.values()) newest = Math.max(newest, e.createdAt.getTime());
    return Date.now() - newest >= this.opts.env.SIGNING_KEY_ROTATION_DAYS * 86_400_000;
  }

  /** Reads every key whose tokens may still be alive (withdrawn keys never). */
  async reload(): Promise<void> {
    const now = Date.now();
    const horizon = new Date(now - (this.opts.env.MAX_ACCESS_TOKEN_TTL_SECONDS + RETIRED_KEY_EXTRA_SECONDS) * 1000);
    const rows = await this.opts.prisma.signingKey.findMany({
      where: { withdrawnAt: null, OR: [{ retiredAt: null }, { retiredAt: { gt: horizon } }] },
      orderBy: [{ activatesAt: "desc" }, { id: "desc" }],
    });
    const publics = new Map<string, PublicEntry>();
    const signers: PublicEntry[] = [];
    for (const row of rows) {
      const jwk = row.publicJwk as JWK;
      const prior = this.publics.get(row.id);
      const key = prior?.key ?? createPublicKey({ key: { ...jwk }, format: "jwk" });
      const maySign = row.retiredAt === null || row.retiredAt.getTime() > now;
      const privateKey = !maySign
        ? null
        : (prior?.privateKey ??
          createPrivateKey({
            key: decryptPrivateKey(row.privateKeyEncrypted, row.id, this.opts.env.SIGNING_KEY_ENCRYPTION_KEY),
            format: "der",
            type: "pkcs8",
          }));
      const entry: PublicEntry = {
        kid: row.id,
        key,
        jwk,
        createdAt: row.createdAt,
        activatesAt: row.activatesAt,
        retiredAt: row.retiredAt,
        privateKey,
      };
      publics.set(row.id, entry);
      if (privateKey) signers.push(entry);
    }
    this.publics = publics;
    this.signers = signers;
    this.lastReload = Date.now();
  }

  /** Serializes key changes across instances (transaction-level advisory lock). */
  private async lockKeys(tx: Prisma.TransactionClient): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`authplane:signing-keys:${this.opts.env.DATABASE_SCHEMA}`}))`;
  }

  /**
   * Inserts a new key that signs from `activatesAt`; every other key still signing at that moment
   * (or later) stops signing then (retiredAt = activatesAt).
   */
  private async createKey(tx: Prisma.TransactionClient, now: Date, activatesAt: Date): Promise<string> {
    const id = `${IdPrefix.signingKey}${ulid()}`;
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const jwk = publicKey.export({ format: "jwk" }) as JWK;
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    await tx.signingKey.updateMany({
      where: { withdrawnAt: null, OR: [{ retiredAt: null }, { retiredAt: { gt: activatesAt } }] },
      data: { retiredAt: activatesAt },
    });
    await tx.signingKey.create({
      data: {
        id,
        algorithm: "EdDSA",
        publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x },
        privateKeyEncrypted: encryptPrivateKey(der, id, this.opts.env.SIGNING_KEY_ENCRYPTION_KEY),
        createdAt: now,
        activatesAt,
      },
    });
    return id;
  }

  /** Reloads here and tells the other instances to reload now. */
  private async announce(kid: string): Promise<void> {
    await this.reload();
    if (this.opts.nats) {
      this.opts.nats.nc.publish(this.opts.nats.subject, kid);
      await this.opts.nats.nc.flush().catch(() => {});
    }
  }

  /**
   * Creates a new signing key. It is in the JWKS at once but signs only after
   * `activationDelaySeconds` (every JWKS cache has seen it by then); the current key keeps signing
   * until that moment, then keeps verifying until its tokens expire. `activateNow` (first key,
   * emergency replacement) signs at once. Serialized across instances by an advisory lock; with
   * `onlyIfDue` a second instance that waited on the lock finds a fresh key and does nothing.
   */
  async rotate(opts: { onlyIfDue?: boolean; activateNow?: boolean } = {}): Promise<string> {
    const env = this.opts.env;
    const kid = await this.opts.prisma.$transaction(async (tx) => {
      await this.lockKeys(tx);
      if (opts.onlyIfDue) {
        const newest = await tx.signingKey.findFirst({ where: { withdrawnAt: null }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
        if (newest && Date.now() - newest.createdAt.getTime() < env.SIGNING_KEY_ROTATION_DAYS * 86_400_000) return newest.id;
      }
      const now = new Date();
      const activatesAt = opts.activateNow ? now : new Date(now.getTime() + this.activationDelaySeconds * 1000);
      return this.createKey(tx, now, activatesAt);
    });
    await this.announce(kid);
    this.opts.logger.info({ kid, activatesIn: opts.activateNow ? 0 : this.activationDelaySeconds }, "signing key created");
    return kid;
  }

  /** Creates a key that signs at once, unless (under the lock) some key already signs now. */
  private async ensureSigner(): Promise<void> {
    const kid = await this.opts.prisma.$transaction(async (tx) => {
      await this.lockKeys(tx);
      const now = new Date();
      const signing = await tx.signingKey.findFirst({
        where: { withdrawnAt: null, activatesAt: { lte: now }, OR: [{ retiredAt: null }, { retiredAt: { gt: now } }] },
      });
      return signing ? null : this.createKey(tx, now, now);
    });
    if (kid) {
      await this.announce(kid);
      this.opts.logger.info({ kid }, "signing key created");
    } else {
      await this.reload();
    }
  }

  /**
   * Withdraws a (compromised) key at once: it leaves the JWKS and its tokens are refused, here now
   * and on the other instances as soon as they hear the announcement (at the latest at their next
   * periodic reload). If it was the signing key, its already-published successor signs from now
   * on, or else a new key is created that signs at once. Withdrawing a pending key gives the keys
   * it would have retired their previous end back. Idempotent.
   */
  async withdraw(kid: string): Promise<WithdrawResult> {
    const result = await this.opts.prisma.$transaction(async (tx): Promise<WithdrawResult> => {
      await this.lockKeys(tx);
      const row = await tx.signingKey.findFirst({ where: { id: kid } });
      if (!row) throw new UnknownSigningKeyError(kid);
      if (row.withdrawnAt) return { kid, alreadyWithdrawn: true, replacementKid: null };
      const now = new Date();
      const pending = row.activatesAt > now;
      const signing = !pending && (row.retiredAt === null || row.retiredAt > now);
      await tx.signingKey.update({
        where: { id: kid },
        data: { withdrawnAt: now, retiredAt: row.retiredAt && row.retiredAt <= now ? row.retiredAt : now },
      });
      if (pending) {
        // The keys this one would have retired at its activation keep signing until its own successor (if any).
        await tx.signingKey.updateMany({
          where: { withdrawnAt: null, retiredAt: row.activatesAt },
          data: { retiredAt: row.retiredAt },
        });
        return { kid, alreadyWithdrawn: false, replacementKid: null };
      }
      if (!signing) return { kid, alreadyWithdrawn: false, replacementKid: null };
      const successor = row.retiredAt
        ? await tx.signingKey.findFirst({ where: { withdrawnAt: null, activatesAt: row.retiredAt }, orderBy: { id: "desc" } })
        : null;
      if (successor) {
        await tx.signingKey.update({ where: { id: successor.id }, data: { activatesAt: now } });
        return { kid, alreadyWithdrawn: false, replacementKid: successor.id };
      }
      return { kid, alreadyWithdrawn: false, replacementKid: await this.createKey(tx, now, now) };
    });
    if (!result.alreadyWithdrawn) {
      await this.announce(kid);
      this.opts.logger.warn({ kid, replacementKid: result.replacementKid }, "signing key withdrawn");
    }
    return result;
  }

  /** JWKS document: every public key whose tokens may still be alive. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [...this.publics.values()]
        .filter((e) => this.isUsable(e))
        .map((e) => ({ kty: e.jwk.kty, crv: e.jwk.crv, x: e.jwk.x, kid: e.kid, alg: "EdDSA", use: "sig" })),
    };
  }

  private isUsable(e: PublicEntry, now = Date.now()): boolean {
    if (!e.retiredAt) return true;
    return e.retiredAt.getTime() + (this.opts.env.MAX_ACCESS_TOKEN_TTL_SECONDS + RETIRED_KEY_EXTRA_SECONDS) * 1000 > now;
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
    const active = this.signerAt(now);
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
    if (token.length > 4096) return null;
    const cacheOn = this.opts.env.TOKEN_CACHE_MAX_ENTRIES > 0;
    if (cacheOn) {
      const hit = this.verified.get(token);
      if (hit) {
        this.verified.delete(token);
        const now = Date.now();
        const entry = this.publics.get(hit.kid);
        if (hit.until > now && entry && this.isUsable(entry, now)) {
          this.verified.set(token, hit); // most recently used
          return hit.claims;
        }
      }
    }
    const verified = await this.verifyAt(token);
    if (!verified) return null;
    if (cacheOn) this.remember(token, verified.kid, verified.claims);
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
    if (token.length > 4096) return null;
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
      const { payload, protectedHeader } = await jwtVerify(token, (header) => this.keyFor(header), {
        algorithms: ["EdDSA"],
        issuer: this.opts.env.TOKEN_ISSUER,
        typ: "JWT",
        requiredClaims: ["exp", "iat", "sub"],
        clockTolerance: 5,
        ...(currentDate ? { currentDate } : {}),
      });
      const parsed = AccessTokenClaims.safeParse(payload);
      if (!parsed.success || parsed.data.sub !== parsed.data.consumerId) return null;
      if (parsed.data.aud !== undefined && parsed.data.aud !== tokenAudience(parsed.data)) return null;
      return { claims: parsed.data, kid: protectedHeader.kid ?? "" };
    } catch {
      return null;
    }
  }

  /** Caches a verified token until min(exp, now + TOKEN_CACHE_TTL_SECONDS); evicts the least recently used. */
  private remember(token: string, kid: string, claims: AccessTokenClaims): void {
    const now = Date.now();
    const until = Math.min(claims.exp * 1000, now + this.opts.env.TOKEN_CACHE_TTL_SECONDS * 1000);
    // Inside the verify clock tolerance (already expired): verified, but never cached.
    if (until <= now) return;
    this.verified.set(token, { claims: Object.freeze({ ...claims }), kid, until });
    while (this.verified.size > this.opts.env.TOKEN_CACHE_MAX_ENTRIES) {
      const oldest = this.verified.keys().next();
      if (oldest.done) break;
      this.verified.delete(oldest.value);
    }
  }

  /** Number of verified tokens held in memory (for tests and diagnostics). */
  get cachedTokenCount(): number {
    return this.verified.size;
  }

  private async keyFor(header: JWTHeaderParameters): Promise<KeyObject> {
    const kid = header.kid;
    if (typeof kid !== "string" || !kid.startsWith(IdPrefix.signingKey) || kid.length > 64) throw new Error("unknown kid");
    let entry = this.publics.get(kid);
    if (!entry && Date.now() - this.lastReload > UNKNOWN_KID_RELOAD_MS) {
      // A kid created by another instance's rotation since our last reload (the NATS announcement
      // usually gets here first). Throttled so forged kids cannot turn into a Postgres flood.
      await this.reloadShared();
      entry = this.publics.get(kid);
    }
    if (!entry || !this.isUsable(entry)) throw new Error("unknown kid");
    return entry.key;
  }
}
