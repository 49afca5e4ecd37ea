import { createHash } from "node:crypto";
import { AppError, DEFAULT_IPV6_PREFIX, DependencyUnavailableError, ipGroup, RateLimit, type Redis } from "@authplane/service-kit";
import { identityKey, type OtpScope } from "./code-store.js";
import type { OtpConfig } from "./config.js";
import type { OtpIdentity } from "./normalize-identity.js";
import { type OtpErrorEntry, OtpErrors, otpError } from "./otp-errors.js";

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

  /**
   * 429 `otp_verify_locked` while the identity-wide wrong-code ceiling is spent (checked before a
   * code is sent: it could not be verified).
   */
  async assertNotLocked(scope: OtpScope, identity: OtpIdentity): Promise<void> {
    await withCode(this.identityFailures.assertAvailable(scopedIdentityKey(scope, identity)), OtpErrors.identityLocked);
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
   * Takes the resend cooldown (SET NX with expiry, so two parallel requests cannot both pass) and
   * one hourly send for the identity; for SMS also one send of the organization-wide hourly and
   * daily SMS ceilings and one of the destination country's hourly cap (all per organization and
   * mode: one tenant's abuse must not stop another tenant's SMS).
   * Returns a release function that gives back everything taken, for a send that failed afterwards
   * (nothing was delivered, so nothing may stay spent).
   */
  async consumeSend(scope: OtpScope, identity: OtpIdentity): Promise<() => Promise<void>> {
    const cooldownKey = `otp:cooldown:${scopedIdentityKey(scope, identity)}`;
    let taken: string | null = "OK";
    try {
      // A cooldown of 0 turns it off (SET EX 0 is an error in Redis).
      if (this.config.resendCooldownSeconds > 0)
        taken = await this.redis.set(cooldownKey, "1", "EX", this.config.resendCooldownSeconds, "NX");
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
    if (taken === null) {
      const ttl = await this.redis.pttl(cooldownKey).catch(() => this.config.resendCooldownSeconds * 1000);
      const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
      throw otpError(OtpErrors.resendCooldown, { "Retry-After": String(retryAfter) }, { retryAfter });
    }
    const refunds: Array<() => Promise<void>> = [];
    const release = async () => {
      await this.redis.del(cooldownKey).catch(() => {});
      for (const refund of refunds.reverse()) await refund().catch(() => {});
      refunds.length = 0;
    };
    const take = async (limit: RateLimit, key: string, entry: OtpErrorEntry) => {
      await withCode(limit.consume(key), entry);
      refunds.push(() => limit.refund(key));
    };
    try {
      await take(this.identitySends, scopedIdentityKey(scope, identity), OtpErrors.identityRateLimited);
      if (identity.channel === "sms") {
        const org = `${scope.organizationId}:${scope.mode}`;
        await take(this.orgSmsHourly, org, OtpErrors.orgSmsLimited);
        await take(this.orgSmsDaily, org, OtpErrors.orgSmsLimited);
        await take(this.countrySends, `${org}:${identity.country ?? "ZZ"}`, OtpErrors.countryRateLimited);
      }
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }
}

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
