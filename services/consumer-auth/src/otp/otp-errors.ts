import { SeedErrors } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/**
 * The OTP part of the consumer-auth error catalog (seed 000 format `{error, message}`). The
 * `otp_expired` and `otp_invalid` bodies are the seed's, byte for byte.
 */
export const OtpErrors = {
  expired: {
    status: 401,
    code: SeedErrors.otpExpired,
    message: "Your verification code has expired. Please request a new one.",
  },
  invalid: {
    status: 401,
    code: SeedErrors.otpInvalid,
    message: "Invalid verification code. Please try again.",
  },
  attemptsExceeded: {
    status: 401,
    code: "otp_attempts_exceeded",
    message: "Too many incorrect attempts. Please request a new verification code.",
  },
  resendCooldown: {
    status: 429,
    code: "otp_resend_cooldown",
    message: "A verification code was just sent. Please wait before requesting another one.",
  },
  identityRateLimited: {
    status: 429,
    code: "otp_rate_limited",
    message: "Too many verification codes were requested for this address. Try again later.",
  },
  countryRateLimited: {
    status: 429,
    code: "otp_sms_country_limited",
    message: "Too many text messages to this country right now. Try again later.",
  },
  smsCountryNotAllowed: {
    status: 403,
    code: "otp_sms_country_not_allowed",
    message: "Text messages to this country are not enabled for this application.",
  },
  orgSmsLimited: {
    status: 429,
    code: "otp_sms_limited",
    message: "Too many text messages were sent right now. Try again later.",
  },
  identityLocked: {
    status: 429,
    code: "otp_verify_locked",
    message: "Too many incorrect verification codes for this address. Try again later.",
  },
  verifyDelayed: {
    status: 429,
    code: "otp_verify_delayed",
    message: "Too many incorrect verification codes from this device. Please wait before trying again.",
  },
  ipRateLimited: {
    status: 429,
    code: "rate_limited",
    message: "Too many requests. Try again later.",
  },
} as const;

export type OtpErrorEntry = (typeof OtpErrors)[keyof typeof OtpErrors];

export function otpError(entry: OtpErrorEntry, headers?: Record<string, string>, details?: Record<string, unknown>): AppError {
  return new AppError(entry.status, entry.code, entry.message, { headers, details });
}
