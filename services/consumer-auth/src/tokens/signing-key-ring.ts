import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { IdPrefix } from "@authplane/contracts";
import { type Logger, type NatsConnection, ulid } from "@authplane/service-kit";
import type { JWK } from "jose";
import { type Env, signingKeyActivationDelaySeconds } from "../env.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { decryptPrivateKey, encryptPrivateKey } from "./key-encryption.js";

/** One signing key held in memory. */
export interface SigningKeyEntry {
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

class UnknownSigningKeyError extends Error {
  constructor(kid: string) {
    super(`no such signing key: ${kid}`);
    this.name = "UnknownSigningKeyError";
  }
}

export interface SigningKeyRingOptions {
  prisma: PrismaClient;
  env: Pick<
    Env,
    | "SIGNING_KEY_ENCRYPTION_KEY"
    | "SIGNING_KEY_ROTATION_DAYS"
    | "SIGNING_KEY_REFRESH_SECONDS"
    | "JWKS_MAX_AGE_SECONDS"
    | "SIGNING_KEY_PUBLISH_MARGIN_SECONDS"
    | "MAX_ACCESS_TOKEN_TTL_SECONDS"
    | "DATABASE_SCHEMA"
  >;
  logger: Logger;
  /**
   * When given, a rotation or withdrawal is announced on `signingKeysChangedSubject` (core NATS)
   * and every instance reloads at once instead of at its next periodic refresh.
   */
  nats?: { nc: NatsConnection; subject: string };
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
 * The signing keys kept in Postgres, held in memory as KeyObjects (no DB or decryption on the hot
 * path). Every instance reloads them periodically (and at once on the NATS announcement), so all
 * instances agree on the signing key: the one whose [activatesAt, retiredAt) holds now. A
 * rotated-in key is published in the JWKS at creation but signs only after
 * `signingKeyActivationDelaySeconds`; a withdrawn key is neither published nor accepted.
 */
export class SigningKeyRing {
  private publics = new Map<string, SigningKeyEntry>();
  /** Keys holding a private key, newest activation first (the signer is the first one active now). */
  private signers: SigningKeyEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastReload = 0;
  private reloading: Promise<void> | null = null;
  private sub: ReturnType<NatsConnection["subscribe"]> | null = null;

  constructor(private readonly opts: SigningKeyRingOptions) {}

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

  /** The key that signs at `now`, or null. */
  signerAt(now: number): SigningKeyEntry | null {
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
    const publics = new Map<string, SigningKeyEntry>();
    const signers: SigningKeyEntry[] = [];
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
      const entry: SigningKeyEntry = {
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

  /** Is a (published) key still accepted: not retired longer than the longest token life ago? */
  private isUsable(e: SigningKeyEntry, now = Date.now()): boolean {
    if (!e.retiredAt) return true;
    return e.retiredAt.getTime() + (this.opts.env.MAX_ACCESS_TOKEN_TTL_SECONDS + RETIRED_KEY_EXTRA_SECONDS) * 1000 > now;
  }

  /** Is `kid` loaded (not withdrawn) and still usable at `now`? (A cached verification counts only then.) */
  accepts(kid: string, now = Date.now()): boolean {
    const entry = this.publics.get(kid);
    return entry !== undefined && this.isUsable(entry, now);
  }

  /**
   * The public key of `kid` if it is usable now. An unknown kid may have been created by another
   * instance's rotation since the last reload (the NATS announcement usually gets here first):
   * reloads from Postgres, throttled so forged kids cannot turn into a Postgres flood.
   */
  async publicKeyFor(kid: unknown): Promise<KeyObject | null> {
    if (typeof kid !== "string" || !kid.startsWith(IdPrefix.signingKey) || kid.length > 64) return null;
    let entry = this.publics.get(kid);
    if (!entry && Date.now() - this.lastReload > UNKNOWN_KID_RELOAD_MS) {
      await this.reloadShared();
      entry = this.publics.get(kid);
    }
    if (!entry || !this.isUsable(entry)) return null;
    return entry.key;
  }
}
