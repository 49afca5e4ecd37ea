import type { KeyObject } from "node:crypto";
import { importSealPublicKey } from "@authplane/service-kit";
/**
 * The OTP numbers, read once from env (see `otpConfigFromEnv`) and handed to the OTP helpers, so
 * they can be unit-tested with other values (a 1 s lifetime, a tiny cap) without the whole env.
 */
export interface OtpConfig {
  /** Lifetime of a code in seconds; also the max age of the OTP_REQUESTS stream. */
  ttlSeconds: number;
  /** Digits per code. */
  length: number;
  /** Wrong tries after which a code is dead. */
  maxAttempts: number;
  /** Minimum gap between two sends to one identity. */
  resendCooldownSeconds: number;
  /** Sends per identity (organization + mode + email/phone) per hour. */
  maxSendsPerHour: number;
  /** OTP requests per client IP per hour. */
  ipRequestsPerHour: number;
  /** OTP verify attempts per client IP per hour. */
  ipVerifiesPerHour: number;
  /** SMS sends per organization, mode and destination country per hour (SMS pumping). */
  smsCountryHourlyCap: number;
  /** SMS sends per organization and mode per hour, all countries together (SMS pumping). */
  smsOrgHourlyCap: number;
  /** SMS sends per organization and mode per 24 h, all countries together. */
  smsOrgDailyCap: number;
  /**
   * Identity-wide ceiling: guesses (wrong codes) per identity (organization + mode + email/phone)
   * per 24 h from all clients together. It is the guessing bound (see README, OTP section); once
   * spent, verify and request answer 429 `otp_verify_locked` until the window ends.
   */
  maxFailedVerifiesPerDay: number;
  /** Wrong codes per (identity, client IP group) per 24 h before delays start. */
  clientFreeFailures: number;
  /** First delay after the free wrong codes; it doubles with every further wrong code. */
  clientDelayBaseSeconds: number;
  /** Cap of that delay. */
  clientDelayMaxSeconds: number;
  /** HMAC key for stored code hashes. */
  codeSecret: string;
  /** otp-delivery's public key: codes in delivery jobs are sealed to it. */
  sealPublicKey: KeyObject;
}

const OTP_DEFAULTS: Omit<OtpConfig, "codeSecret" | "sealPublicKey"> = {
  ttlSeconds: 600,
  length: 6,
  maxAttempts: 5,
  resendCooldownSeconds: 30,
  maxSendsPerHour: 5,
  ipRequestsPerHour: 30,
  ipVerifiesPerHour: 100,
  smsCountryHourlyCap: 1000,
  smsOrgHourlyCap: 2000,
  smsOrgDailyCap: 10000,
  maxFailedVerifiesPerDay: 200,
  clientFreeFailures: 5,
  clientDelayBaseSeconds: 2,
  clientDelayMaxSeconds: 3600,
};

/** The OTP variables of consumer-auth's Env (see src/env.ts, "OTP" block). */
export interface OtpEnv {
  OTP_TTL_SECONDS: number;
  OTP_LENGTH: number;
  OTP_MAX_ATTEMPTS: number;
  OTP_RESEND_COOLDOWN_SECONDS: number;
  OTP_MAX_SENDS_PER_HOUR: number;
  OTP_IP_REQUESTS_PER_HOUR: number;
  OTP_IP_VERIFIES_PER_HOUR?: number;
  OTP_SMS_COUNTRY_HOURLY_CAP: number;
  OTP_SMS_ORG_HOURLY_CAP?: number;
  OTP_SMS_ORG_DAILY_CAP?: number;
  OTP_MAX_FAILED_VERIFIES_PER_DAY?: number;
  OTP_CLIENT_FREE_FAILURES?: number;
  OTP_CLIENT_DELAY_BASE_SECONDS?: number;
  OTP_CLIENT_DELAY_MAX_SECONDS?: number;
  OTP_CODE_SECRET: string;
  OTP_SEAL_PUBLIC_KEY: string;
}

export function otpConfigFromEnv(env: OtpEnv): OtpConfig {
  return {
    ttlSeconds: env.OTP_TTL_SECONDS,
    length: env.OTP_LENGTH,
    maxAttempts: env.OTP_MAX_ATTEMPTS,
    resendCooldownSeconds: env.OTP_RESEND_COOLDOWN_SECONDS,
    maxSendsPerHour: env.OTP_MAX_SENDS_PER_HOUR,
    ipRequestsPerHour: env.OTP_IP_REQUESTS_PER_HOUR,
    ipVerifiesPerHour: env.OTP_IP_VERIFIES_PER_HOUR ?? OTP_DEFAULTS.ipVerifiesPerHour,
    smsCountryHourlyCap: env.OTP_SMS_COUNTRY_HOURLY_CAP,
    smsOrgHourlyCap: env.OTP_SMS_ORG_HOURLY_CAP ?? OTP_DEFAULTS.smsOrgHourlyCap,
    smsOrgDailyCap: env.OTP_SMS_ORG_DAILY_CAP ?? OTP_DEFAULTS.smsOrgDailyCap,
    maxFailedVerifiesPerDay: env.OTP_MAX_FAILED_VERIFIES_PER_DAY ?? OTP_DEFAULTS.maxFailedVerifiesPerDay,
    clientFreeFailures: env.OTP_CLIENT_FREE_FAILURES ?? OTP_DEFAULTS.clientFreeFailures,
    clientDelayBaseSeconds: env.OTP_CLIENT_DELAY_BASE_SECONDS ?? OTP_DEFAULTS.clientDelayBaseSeconds,
    clientDelayMaxSeconds: env.OTP_CLIENT_DELAY_MAX_SECONDS ?? OTP_DEFAULTS.clientDelayMaxSeconds,
    codeSecret: env.OTP_CODE_SECRET,
    sealPublicKey: importSealPublicKey(env.OTP_SEAL_PUBLIC_KEY),
  };
}
