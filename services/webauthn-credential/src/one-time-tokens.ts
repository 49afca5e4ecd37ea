import type { Mode } from "@authplane/contracts";
import type { Redis } from "@authplane/service-kit";
import { z } from "zod";
import { newOneTimeToken, tokenDigest } from "./ids.js";

/** A verified credential waiting to be attached to a user (`rtn_…`). */
export const PendingRegistration = z.object({
  organizationId: z.string(),
  mode: z.enum(["live", "test"]),
  webauthnId: z.string(),
  publicKey: z.string(),
  counter: z.number().int().nonnegative(),
  aaguid: z.string(),
  isBackupEligible: z.boolean(),
  isBackedUp: z.boolean(),
  isUvInitialized: z.boolean(),
  transports: z.array(z.string()),
});
export type PendingRegistration = z.infer<typeof PendingRegistration>;

/** A completed sign-in waiting to be verified by the backend (`atn_…`). */
const CompletedAuthentication = z.object({
  organizationId: z.string(),
  mode: z.enum(["live", "test"]),
  credentialId: z.string(),
  userId: z.string(),
  /** For /auth/verify's extra fields (absent in tokens issued before they existed). */
  credential: z.object({ id: z.string(), name: z.string(), isBackedUp: z.boolean() }).optional(),
  userVerified: z.boolean().optional(),
});
type CompletedAuthentication = z.infer<typeof CompletedAuthentication>;

const KINDS = {
  registration: { prefix: "rtn_", schema: PendingRegistration },
  authentication: { prefix: "atn_", schema: CompletedAuthentication },
} as const;
type Kind = keyof typeof KINDS;
type Payload<K extends Kind> = z.infer<(typeof KINDS)[K]["schema"]>;

export type TakeResult<T> = { ok: true; value: T } | { ok: false; reason: "expired" | "spent" | "not_found" | "other_scope" };

/** What stays of a token after it stops working: whose it was and whether it was spent. */
const Tombstone = z.object({ organizationId: z.string(), mode: z.enum(["live", "test"]), spent: z.boolean() });
type Tombstone = z.infer<typeof Tombstone>;

/**
 * rtn_/atn_ one-time tokens in Redis, keyed by the token's SHA-256 (a Redis dump does not hold
 * usable tokens). `take` checks the caller's organization and mode first, so another
 * organization cannot burn a token it does not own, then consumes it with one GETDEL.
 *
 * Telling an expired or spent token from an unknown one: each token also gets a tombstone under
 * its hash (organization, mode, spent flag; no payload) that outlives it by `tombstoneSeconds`.
 * The token gone but its tombstone there: `expired` or `spent`; neither there: `not_found` (never
 * issued, or so old that its tombstone is gone too).
 */
export class OneTimeTokens {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly tombstoneSeconds = 86_400,
  ) {}

  private key(kind: Kind, token: string): string {
    return `ott:${kind}:${tokenDigest(token)}`;
  }

  private tombstoneKey(kind: Kind, token: string): string {
    return `ott-tomb:${kind}:${tokenDigest(token)}`;
  }

  async issue<K extends Kind>(kind: K, payload: Payload<K>): Promise<{ token: string; expiresAt: number }> {
    const token = newOneTimeToken(KINDS[kind].prefix);
    const tx = this.redis.multi().set(this.key(kind, token), JSON.stringify(payload), "EX", this.ttlSeconds);
    if (this.tombstoneSeconds > 0) {
      const tomb: Tombstone = { organizationId: payload.organizationId, mode: payload.mode, spent: false };
      tx.set(this.tombstoneKey(kind, token), JSON.stringify(tomb), "EX", this.ttlSeconds + this.tombstoneSeconds);
    }
    await execOrThrow(tx);
    return { token, expiresAt: Math.floor(Date.now() / 1000) + this.ttlSeconds };
  }

  async take<K extends Kind>(kind: K, token: string, scope: { organizationId: string; mode: Mode }): Promise<TakeResult<Payload<K>>> {
    if (!token.startsWith(KINDS[kind].prefix)) return { ok: false, reason: "not_found" };
    const key = this.key(kind, token);
    const peek = await this.redis.get(key);
    if (!peek) return this.gone(kind, token, scope);
    const first = KINDS[kind].schema.parse(JSON.parse(peek));
    if (first.organizationId !== scope.organizationId || first.mode !== scope.mode) return { ok: false, reason: "other_scope" };
    const tomb: Tombstone = { organizationId: first.organizationId, mode: first.mode, spent: true };
    // One transaction: the token is spent and its tombstone says so at the same instant.
    const [raw] = await execOrThrow(
      this.redis.multi().getdel(key).set(this.tombstoneKey(kind, token), JSON.stringify(tomb), "KEEPTTL", "XX"),
    );
    if (typeof raw !== "string") return { ok: false, reason: "spent" };
    return { ok: true, value: KINDS[kind].schema.parse(JSON.parse(raw)) as Payload<K> };
  }

  /** The token is not (or no longer) in Redis: what its tombstone says. */
  private async gone(kind: Kind, token: string, scope: { organizationId: string; mode: Mode }): Promise<TakeResult<never>> {
    const raw = await this.redis.get(this.tombstoneKey(kind, token));
    if (!raw) return { ok: false, reason: "not_found" };
    const tomb = Tombstone.parse(JSON.parse(raw));
    if (tomb.organizationId !== scope.organizationId || tomb.mode !== scope.mode) return { ok: false, reason: "other_scope" };
    return { ok: false, reason: tomb.spent ? "spent" : "expired" };
  }
}

/** Runs a MULTI; a failed command fails the whole call (ioredis reports errors per command). */
async function execOrThrow(tx: ReturnType<Redis["multi"]>): Promise<unknown[]> {
  const results = await tx.exec();
  if (!results) throw new Error("Redis transaction aborted");
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
