import { AppError, DependencyUnavailableError, RateLimit, type Redis } from "@authplane/service-kit";
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
      | "maxFailedVerifiesPerDay"
    >,
  ) {
    this.ipRequests = new RateLimit(redis, { name: "otp-request-ip", points: config.ipRequestsPerHour, durationSeconds: HOUR });
    this.ipVerifies = new RateLimit(redis, { name: "otp-verify-ip", points: config.ipVerifiesPerHour, durationSeconds: HOUR });
    this.identitySends = new RateLimit(redis, { name: "otp-send-identity", points: config.maxSendsPerHour, durationSeconds: HOUR });
    this.countrySends = new RateLimit(redis, { name: "otp-send-country", points: config.smsCountryHourlyCap, durationSeconds: HOUR });
    this.identityFailures = new RateLimit(redis, {
      name: "otp-fail-identity",
      points: config.maxFailedVerifiesPerDay,
      durationSeconds: DAY,
    });
  }

  /**
   * 429 `otp_verify_locked` while the identity's wrong-code budget is spent. Checked before a code
   * is compared (verify) and before a new one is sent (request), for known and unknown identities
   * alike. Parallel guesses can overshoot the budget by at most the current code's own attempts.
   */
  async assertNotLocked(scope: OtpScope, identity: OtpIdentity): Promise<void> {
    await withCode(this.identityFailures.assertAvailable(scopedIdentityKey(scope, identity)), OtpErrors.identityLocked);
  }

  /** Spends one point of the identity's wrong-code budget (after a wrong code). */
  async recordFailure(scope: OtpScope, identity: OtpIdentity): Promise<void> {
    await this.identityFailures.consume(scopedIdentityKey(scope, identity)).catch((err: unknown) => {
      // Budget just ran out: the next verify/request is refused by assertNotLocked.
      if (err instanceof AppError && err.status === 429) return;
      throw err;
    });
  }

  /** A correct code clears the identity's wrong-code budget. */
  async clearFailures(scope: OtpScope, identity: OtpIdentity): Promise<void> {
    await this.identityFailures.reset(scopedIdentityKey(scope, identity)).catch(() => {});
  }

  async consumeRequestByIp(ip: string): Promise<void> {
    await withCode(this.ipRequests.consume(ip), OtpErrors.ipRateLimited);
  }

  async consumeVerifyByIp(ip: string): Promise<void> {
    await withCode(this.ipVerifies.consume(ip), OtpErrors.ipRateLimited);
  }

  /**
   * Takes the resend cooldown (SET NX with expiry, so two parallel requests cannot both pass) and
   * one hourly send for the identity, plus one hourly SMS for the destination country.
   * Returns a release function that gives the cooldown back when the send fails afterwards.
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
    const release = async () => {
      await this.redis.del(cooldownKey).catch(() => {});
    };
    try {
      await withCode(this.identitySends.consume(scopedIdentityKey(scope, identity)), OtpErrors.identityRateLimited);
      if (identity.channel === "sms") {
        // Per organization and mode: one tenant's abuse must not stop another tenant's SMS.
        const country = identity.country ?? "ZZ";
        await withCode(this.countrySends.consume(`${scope.organizationId}:${scope.mode}:${country}`), OtpErrors.countryRateLimited);
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
