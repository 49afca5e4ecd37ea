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
export const CompletedAuthentication = z.object({
  organizationId: z.string(),
  mode: z.enum(["live", "test"]),
  credentialId: z.string(),
  userId: z.string(),
  userHandle: z.string().nullable(),
});
export type CompletedAuthentication = z.infer<typeof CompletedAuthentication>;

const KINDS = {
  registration: { prefix: "rtn_", schema: PendingRegistration },
  authentication: { prefix: "atn_", schema: CompletedAuthentication },
} as const;
type Kind = keyof typeof KINDS;
type Payload<K extends Kind> = z.infer<(typeof KINDS)[K]["schema"]>;

export type TakeResult<T> = { ok: true; value: T } | { ok: false; reason: "expired" | "other_scope" };

/**
 * rtn_/atn_ one-time tokens in Redis, keyed by the token's SHA-256 (a Redis dump does not hold
 * usable tokens). `take` checks the caller's organization and mode first, so another
 * organization cannot burn a token it does not own, then consumes it with one GETDEL.
 */
export class OneTimeTokens {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  private key(kind: Kind, token: string): string {
    return `ott:${kind}:${tokenDigest(token)}`;
  }

  async issue<K extends Kind>(kind: K, payload: Payload<K>): Promise<{ token: string; expiresAt: number }> {
    const token = newOneTimeToken(KINDS[kind].prefix);
    await this.redis.set(this.key(kind, token), JSON.stringify(payload), "EX", this.ttlSeconds);
    return { token, expiresAt: Math.floor(Date.now() / 1000) + this.ttlSeconds };
  }

  async take<K extends Kind>(kind: K, token: string, scope: { organizationId: string; mode: Mode }): Promise<TakeResult<Payload<K>>> {
    if (!token.startsWith(KINDS[kind].prefix)) return { ok: false, reason: "expired" };
    const key = this.key(kind, token);
    const peek = await this.redis.get(key);
    if (!peek) return { ok: false, reason: "expired" };
    const first = KINDS[kind].schema.parse(JSON.parse(peek));
    if (first.organizationId !== scope.organizationId || first.mode !== scope.mode) return { ok: false, reason: "other_scope" };
    const raw = await this.redis.getdel(key);
    if (!raw) return { ok: false, reason: "expired" };
    return { ok: true, value: KINDS[kind].schema.parse(JSON.parse(raw)) as Payload<K> };
  }
}
