import { createHash, createHmac, randomInt } from "node:crypto";
import type { Mode } from "@authplane/contracts";
import type { Redis } from "@authplane/service-kit";
import { LuaScript } from "./lua-script.js";
import type { OtpIdentity } from "./normalize-identity.js";

/** Whose code: the same email in two organizations (or live and test) has two separate codes. */
export interface OtpScope {
  organizationId: string;
  mode: Mode;
}

/**
 * `invalid`: a wrong guess; `killed`: the wrong guess that used the last attempt (the code is dead
 * now); `exhausted`: the code was dead already (nothing compared); `expired`: no code.
 */
export type VerifyOutcome = "ok" | "invalid" | "killed" | "expired" | "exhausted";

/*
 * One Redis hash per (organization, mode, identity):
 *   h = HMAC of the code, r = request id of the code, and per client (IP group) `g`:
 *   a:g = that client's wrong attempts so far, d:g = "1" once they are exhausted (the code is dead
 *   for that client until the TTL, so its right code is still refused with a clear error instead
 *   of "expired"). Another client's wrong guesses never kill the code for its owner: the total of
 *   guesses across clients is bounded by the identity-wide ceiling in OtpLimits.
 * The hash expires with the code. Requesting a new code replaces the hash (attempts start over;
 * the per-identity wrong-code budget in OtpLimits bounds how many guesses that gives an attacker).
 */

const STORE = new LuaScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0, 'r', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`);

// Compare, count and consume in one step: Redis runs a script alone, so two parallel verifies of
// one code cannot both see it, and parallel wrong guesses cannot slip past the attempt limit.
// The string compare is not constant-time, but it compares HMACs under a server secret: how many
// leading characters of a keyed hash match says nothing about the code.
const VERIFY = new LuaScript(`
local v = redis.call('HMGET', KEYS[1], 'h', 'd:' .. ARGV[3])
if v[2] then return 'exhausted' end
if not v[1] then return 'expired' end
if v[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
local a = redis.call('HINCRBY', KEYS[1], 'a:' .. ARGV[3], 1)
if a >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'd:' .. ARGV[3], '1')
  return 'killed'
end
return 'invalid'
`);

// Removes a code only if it is still the one this request stored (a later request may have
// replaced it in the meantime).
const REVOKE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'r') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** Hashed, attempt-counted, single-use OTP codes in Redis (shared by every instance). */
export class OtpCodeStore {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { codeSecret: string; ttlSeconds: number; maxAttempts: number; length: number },
  ) {}

  /** A uniformly random code of `length` digits (leading zeros kept). */
  generateCode(): string {
    return String(randomInt(0, 10 ** this.opts.length)).padStart(this.opts.length, "0");
  }

  /** Stores `code` (as an HMAC) for the identity, replacing any earlier code and its attempts. */
  async store(scope: OtpScope, identity: OtpIdentity, code: string, requestId: string): Promise<void> {
    await STORE.run(this.redis, [this.key(scope, identity)], [this.hash(scope, identity, code), requestId, this.opts.ttlSeconds]);
  }

  /**
   * Verifies and, on success, consumes the code, atomically. `client` (the caller's IP group) owns
   * its own `maxAttempts` wrong tries at this code.
   */
  async verify(scope: OtpScope, identity: OtpIdentity, code: string, client = "-"): Promise<VerifyOutcome> {
    const out = await VERIFY.run(
      this.redis,
      [this.key(scope, identity)],
      [this.hash(scope, identity, code), this.opts.maxAttempts, createHash("sha256").update(client).digest("base64url").slice(0, 22)],
    );
    if (out === "ok" || out === "invalid" || out === "killed" || out === "expired" || out === "exhausted") return out;
    throw new Error(`unexpected OTP verify result: ${String(out)}`);
  }

  /** Removes the code stored by `requestId`, if it is still the current one. */
  async revoke(scope: OtpScope, identity: OtpIdentity, requestId: string): Promise<void> {
    await REVOKE.run(this.redis, [this.key(scope, identity)], [requestId]);
  }

  private hash(scope: OtpScope, identity: OtpIdentity, code: string): string {
    return createHmac("sha256", this.opts.codeSecret)
      .update(`${scope.organizationId}|${scope.mode}|${identity.kind}:${identity.value}|${code}`)
      .digest("hex");
  }

  /** The identity is hashed so that emails and phone numbers are not readable in Redis key names. */
  private key(scope: OtpScope, identity: OtpIdentity): string {
    return `otp:code:${scope.organizationId}:${scope.mode}:${identityKey(identity)}`;
  }
}

/** A stable, non-reversible-at-a-glance id of an identity for Redis key names. */
export function identityKey(identity: OtpIdentity): string {
  return createHash("sha256").update(`${identity.kind}:${identity.value}`).digest("base64url");
}
