import { randomBytes } from "node:crypto";
import type { Mode } from "@authplane/contracts";
import type { Redis } from "@authplane/service-kit";
import { z } from "zod";

export type Ceremony = "registration" | "authentication";

/** What a challenge was issued for; checked again when it comes back. */
export const ChallengeRecord = z.object({
  rpId: z.string(),
  /** Authentication: the credentials (webauthn ids) the options allowed; empty = any discoverable. */
  allow: z.array(z.string()).default([]),
  /**
   * Authentication: the user the options were asked for (username-first), if any. Checked at
   * process as well as `allow` (which holds only a decoy for a user without passkeys), so such a
   * ceremony cannot be completed with somebody else's discoverable passkey. The username is
   * held as its hash only (see usernames.ts), never in clear, in Redis as in Postgres.
   */
  user: z
    .object({ id: z.string().nullable(), handleHash: z.string().nullable().default(null) })
    .nullable()
    .default(null),
  /** User verification was required when the options were issued (still required at process). */
  requireUv: z.boolean().default(false),
});
export type ChallengeRecord = z.infer<typeof ChallengeRecord>;

/**
 * WebAuthn challenges in Redis: 256 random bits, single use, bound to organization + mode +
 * ceremony by the key and to the rpId by the record. `consume` is one GETDEL, so two concurrent
 * responses to the same challenge cannot both pass.
 */
export class ChallengeStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  private key(scope: { organizationId: string; mode: Mode }, ceremony: Ceremony, challenge: string): string {
    return `chal:${ceremony}:${scope.organizationId}:${scope.mode}:${challenge}`;
  }

  /** Creates and stores a challenge; returns its bytes (the options carry them base64url). */
  async issue(
    scope: { organizationId: string; mode: Mode },
    ceremony: Ceremony,
    record: ChallengeRecord,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = randomBytes(32);
    const challenge = bytes.toString("base64url");
    await this.redis.set(this.key(scope, ceremony, challenge), JSON.stringify(record), "EX", this.ttlSeconds);
    return Uint8Array.from(bytes);
  }

  /** The record, deleted in the same step; null when expired, spent, or issued for another scope. */
  async consume(scope: { organizationId: string; mode: Mode }, ceremony: Ceremony, challenge: string): Promise<ChallengeRecord | null> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return null;
    const raw = await this.redis.getdel(this.key(scope, ceremony, challenge));
    if (!raw) return null;
    return ChallengeRecord.parse(JSON.parse(raw));
  }
}
