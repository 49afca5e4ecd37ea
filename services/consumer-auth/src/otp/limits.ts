import { createHash } from "node:crypto";
import {
  AppError,
  currentRequestContext,
  DEFAULT_IPV6_PREFIX,
  DependencyUnavailableError,
  ipGroup,
  RateLimit,
  type Redis,
} from "@authplane/service-kit";
import { identityKey, type OtpScope } from "./code-store.js";
import type { OtpConfig } from "./config.js";
import { LuaScript } from "./lua-script.js";
import type { OtpIdentity } from "./normalize-identity.js";
import { type OtpErrorEntry, OtpErrors, otpError } from "../errors.js";

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Send and verify limits, in Redis so every instance shares them. Each rejection is a 429 with
 * `Retry-After` (seconds) and an error code from OtpErrors.
 */
export class OtpLimits {
  private readonly ipRequests: RateLimit;
  private readonly ipVerifies: RateLimit;
  private readonly identitySends: RateLimit;
  private readonly countrySends: RateLimit;
  private readonly orgSmsHourly: RateLimit;
  private readonly orgSmsDaily: RateLimit;
  private readonly identityFailures: RateLimit;

  constructor(
    private readonly redis: Redis,
    private readonly config: Pick<
      OtpConfig,
      | "resendCooldownSeconds"
      | "maxSendsPerHour"
      | "ipRequestsPerHour"
      | "ipVerifiesPerHour"
      | "smsCountryHourlyCap"
      | "smsOrgHourlyCap"
      | "smsOrgDailyCap"
      | "maxFailedVerifiesPerDay"
      | "clientFreeFailures"
      | "clientDelayBaseSeconds"
      | "clientDelayMaxSeconds"
    >,
    /** Per-IP budgets count an IPv6 client by this prefix (RATE_LIMIT_IPV6_PREFIX). */
    private readonly ipv6Prefix: number = DEFAULT_IPV6_PREFIX,
  ) {
    this.ipRequests = new RateLimit(redis, { name: "otp-request-ip", points: config.ipRequestsPerHour, durationSeconds: HOUR });
    this.ipVerifies = new RateLimit(redis, { name: "otp-verify-ip", points: config.ipVerifiesPerHour, durationSeconds: HOUR });
    this.identitySends = new RateLimit(redis, { name: "otp-send-identity", points: config.maxSendsPerHour, durationSeconds: HOUR });
    this.countrySends = new RateLimit(redis, { name: "otp-send-country", points: config.smsCountryHourlyCap, durationSeconds: HOUR });
    this.orgSmsHourly = new RateLimit(redis, { name: "otp-sms-org-hour", points: config.smsOrgHourlyCap, durationSeconds: HOUR });
    this.orgSmsDaily = new RateLimit(redis, { name: "otp-sms-org-day", points: config.smsOrgDailyCap, durationSeconds: DAY });
    this.identityFailures = new RateLimit(redis, {
      name: "otp-fail-identity",
      points: config.maxFailedVerifiesPerDay,
      durationSeconds: DAY,
    });
  }

  /** The client a per-client budget is kept for: its IP group (IPv6 by prefix). */
  clientOf(ip: string): string {
    return ipGroup(ip, this.ipv6Prefix);
  }

  /**
   * Before a code is compared: 429 `otp_verify_delayed` (Retry-After) while this client's delay for
   * the identity runs, then one point of the identity-wide ceiling is taken (429
   * `otp_verify_locked` once it is spent). Taking the point before the compare means parallel
   * guesses cannot overshoot the ceiling. Returns the refund for a compare that was not a wrong
   * guess (right code, no code).
   */
  async beginGuess(scope: OtpScope, identity: OtpIdentity, client: string): Promise<() => Promise<void>> {
    const delayKey = `otp:delay:${clientKey(scope, identity, ipGroup(client, this.ipv6Prefix))}`;
    let ttl: number;
    try {
      ttl = await this.redis.pttl(delayKey);
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
    if (ttl > 0) {
      const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
      throw otpError(OtpErrors.verifyDelayed, { "Retry-After": String(retryAfter) }, { retryAfter });
    }
    const key = scopedIdentityKey(scope, identity);
    await withCode(this.identityFailures.consume(key), OtpErrors.identityLocked);
    return async () => {
      await this.identityFailures.refund(key).catch(() => {});
    };
  }

  /**
   * After a wrong code: counts the client's wrong codes for the identity (24 h window) and, once
   * there are more than the free ones, makes it wait `base × 2^(n − free − 1)` seconds (capped)
   * before its next guess.
   */
  async recordFailure(scope: OtpScope, identity: OtpIdentity, client: string): Promise<void> {
    const id = clientKey(scope, identity, ipGroup(client, this.ipv6Prefix));
    try {
      const n = await this.redis.incr(`otp:fails:${id}`);
      if (n === 1) await this.redis.expire(`otp:fails:${id}`, DAY);
      const over = n - this.config.clientFreeFailures - 1;
      if (over >= 0) {
        const delay = Math.min(this.config.clientDelayBaseSeconds * 2 ** over, this.config.clientDelayMaxSeconds);
        await this.redis.set(`otp:delay:${id}`, "1", "PX", Math.max(1, Math.round(delay * 1000)));
      }
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
  }

  /**
   * A right code clears this client's own count and delay. The identity-wide ceiling is not
   * cleared: other clients' wrong guesses stay counted, so a sign-in never hands a guesser a new
   * budget.
   */
  async clearFailures(scope: OtpScope, identity: OtpIdentity, client: string): Promise<void> {
    const id = clientKey(scope, identity, ipGroup(client, this.ipv6Prefix));
    await this.redis.del(`otp:fails:${id}`, `otp:delay:${id}`).catch(() => {});
  }

  async consumeRequestByIp(ip: string): Promise<void> {
    await withCode(this.ipRequests.consume(ipGroup(ip, this.ipv6Prefix)), OtpErrors.ipRateLimited);
  }

  async consumeVerifyByIp(ip: string): Promise<void> {
    await withCode(this.ipVerifies.consume(ipGroup(ip, this.ipv6Prefix)), OtpErrors.ipRateLimited);
  }

  /**
   * Everything a send needs, in ONE Redis round trip (script SEND_BUDGETS): first 429
   * `otp_verify_locked` while the identity-wide wrong-code ceiling is spent (no code is sent that
   * could not be verified; read only, like RateLimit.assertAvailable), then the resend cooldown
   * (SET NX with expiry, so two parallel requests cannot both pass) and one hourly send for the
   * identity; for SMS also one send of the organization-wide hourly and daily SMS ceilings and
   * one of the destination country's hourly cap (all per organization and mode: one tenant's abuse
   * must not stop another tenant's SMS). Each budget is rate-limiter-flexible's fixed window on
   * the same key `RateLimit` uses (`rl:<name>:<key>`); a refused one keeps its point, and every
   * budget taken before it and the cooldown are given back in the same script.
   * Returns a release function that gives back everything taken, for a send that failed afterwards
   * (nothing was delivered, so nothing may stay spent).
   */
  async consumeSend(scope: OtpScope, identity: OtpIdentity): Promise<() => Promise<void>> {
    const identityId = scopedIdentityKey(scope, identity);
    const cooldownKey = `otp:cooldown:${identityId}`;
    const budgets: Array<{ limit: RateLimit; key: string; entry: OtpErrorEntry }> = [
      { limit: this.identitySends, key: identityId, entry: OtpErrors.identityRateLimited },
    ];
    if (identity.channel === "sms") {
      const org = `${scope.organizationId}:${scope.mode}`;
      budgets.push({ limit: this.orgSmsHourly, key: org, entry: OtpErrors.orgSmsLimited });
      budgets.push({ limit: this.orgSmsDaily, key: org, entry: OtpErrors.orgSmsLimited });
      budgets.push({ limit: this.countrySends, key: `${org}:${identity.country ?? "ZZ"}`, entry: OtpErrors.countryRateLimited });
    }
    const keys = [rlKey(this.identityFailures, identityId), cooldownKey, ...budgets.map((b) => rlKey(b.limit, b.key))];
    const args: Array<string | number> = [this.identityFailures.rule.points, this.config.resendCooldownSeconds, budgets.length];
    for (const b of budgets) args.push(b.limit.rule.points, b.limit.rule.durationSeconds);
    // As RateLimit does (rejectIfRedisNotReady): a disconnected client would queue the script.
    if (this.redis.status !== "ready") throw new DependencyUnavailableError("redis");
    let reply: [number, number];
    try {
      reply = (await SEND_BUDGETS.run(this.redis, keys, args)) as [number, number];
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
    const [refused, ttl] = reply;
    const retry = (name?: string) => {
      // Counted by the access log under the refusing limit's name, as RateLimit does.
      const ctx = name ? currentRequestContext() : undefined;
      if (ctx) ctx.refusedBy = name;
      const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
      return [{ "Retry-After": String(retryAfter) }, { retryAfter }] as const;
    };
    if (refused === -1) throw otpError(OtpErrors.identityLocked, ...retry(this.identityFailures.rule.name));
    if (refused === -2) throw otpError(OtpErrors.resendCooldown, ...retry());
    const failed = budgets[refused - 1];
    if (failed) throw otpError(failed.entry, ...retry(failed.limit.rule.name));
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.redis.del(cooldownKey).catch(() => {});
      for (const b of [...budgets].reverse()) await b.limit.refund(b.key).catch(() => {});
    };
  }
}

/** The Redis key of a RateLimit bucket (rate-limiter-flexible: `<keyPrefix>:<key>`, keyPrefix `rl:<name>`). */
function rlKey(limit: RateLimit, key: string): string {
  return `rl:${limit.rule.name}:${key}`;
}

/**
 * KEYS: the identity-wide wrong-code bucket, the cooldown key, then the budgets in order.
 * ARGV: the wrong-code ceiling, the cooldown seconds (0: none), the number of budgets, then
 * points and window seconds per budget. Returns {0, 0} when everything was taken, {-1, pttl}
 * locked, {-2, pttl} cooling down, {i, pttl} refused by budget i (earlier budgets and the cooldown
 * given back). A budget step is rate-limiter-flexible's RateLimiterRedis script verbatim.
 */
const SEND_BUDGETS = new LuaScript(`
local failures = redis.call('get', KEYS[1])
if failures and tonumber(failures) >= tonumber(ARGV[1]) then
  return {-1, redis.call('pttl', KEYS[1])}
end
local cooldown = tonumber(ARGV[2])
if cooldown > 0 and not redis.call('set', KEYS[2], '1', 'EX', cooldown, 'NX') then
  return {-2, redis.call('pttl', KEYS[2])}
end
local n = tonumber(ARGV[3])
for i = 1, n do
  local key = KEYS[2 + i]
  local dur = ARGV[3 + 2 * i]
  redis.call('set', key, 0, 'EX', dur, 'NX')
  local consumed = redis.call('incrby', key, 1)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, dur)
    ttl = 1000 * dur
  end
  if consumed > tonumber(ARGV[2 + 2 * i]) then
    for j = i - 1, 1, -1 do redis.call('incrby', KEYS[2 + j], -1) end
    if cooldown > 0 then redis.call('del', KEYS[2]) end
    return {i, ttl}
  end
end
return {0, 0}`);

/** Bucket key of per-identity limits: organization + mode + the (hashed) email/phone. */
function scopedIdentityKey(scope: OtpScope, identity: OtpIdentity): string {
  return `${scope.organizationId}:${scope.mode}:${identityKey(identity)}`;
}

/** Bucket key of per-(identity, client) budgets: the client (IP group) hashed like the identity. */
function clientKey(scope: OtpScope, identity: OtpIdentity, client: string): string {
  return `${scopedIdentityKey(scope, identity)}:${createHash("sha256").update(client).digest("base64url").slice(0, 22)}`;
}

/** Re-labels RateLimit's generic 429 with the catalog entry (same Retry-After). */
async function withCode(p: Promise<void>, entry: OtpErrorEntry): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError && err.status === 429) {
      throw otpError(entry, err.options.headers, err.options.details);
    }
    throw err;
  }
}
