import { SeedErrors } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/**
 * consumer-auth's one error catalog: `ErrorCatalog` (keys, tokens, sessions), `OtpErrors` (its OTP
 * part) and `KIT_ERROR_CODES` (answered by service-kit's shared middleware). The endpoint
 * declarations (routes/) name their codes from it, and the OpenAPI document lists them.
 *
 * consumer-auth error catalog (seed 000 format `{"error", "message"?}`). The seed's own values are
 * kept byte for byte; the rest are snake_case codes with a sentence.
 */
export const ErrorCatalog = {
  authenticationRequired: { status: 401, code: SeedErrors.authenticationRequired },
  secretKeyRequired: { status: 403, code: SeedErrors.secretKeyRequired },
  invalidExchangeCode: {
    status: 401,
    code: "exchange_code_invalid",
    message: "The exchange code is unknown, expired, already used, or belongs to another organization or mode.",
  },
  invalidRefreshToken: { status: 401, code: "refresh_token_invalid", message: "The refresh token is invalid." },
  refreshTokenExpired: { status: 401, code: "refresh_token_expired", message: "The refresh token has expired." },
  refreshTokenReused: {
    status: 401,
    code: "refresh_token_reused",
    message: "The refresh token was already used; the session has been revoked.",
  },
  sessionRevoked: { status: 401, code: "session_revoked", message: "The session has been revoked." },
  sessionExpired: {
    status: 401,
    code: "session_expired",
    message: "The session reached its maximum lifetime; sign in again.",
  },
  invalidAccessToken: { status: 401, code: "invalid_token", message: "The access token is invalid, expired or revoked." },
  keyMismatch: {
    status: 401,
    code: "key_mismatch",
    message: "The token belongs to another organization or mode than the key.",
  },
  originNotAllowed: {
    status: 403,
    code: "origin_not_allowed",
    message: "This page's origin is not one of the organization's allowed origins for this key's mode.",
  },
  rateLimited: { status: 429, code: "rate_limited" },
  consumerNotFound: {
    status: 404,
    code: "consumer_not_found",
    message: "No consumer with this id in this organization and mode.",
  },
  sessionNotFound: {
    status: 404,
    code: "session_not_found",
    message: "No session with this id for this consumer.",
  },
} as const;

type CatalogEntry = { status: number; code: string; message?: string };

export function appError(entry: CatalogEntry, options?: ConstructorParameters<typeof AppError>[3]): AppError {
  return new AppError(entry.status, entry.code, entry.message, options);
}

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
  return appError(entry, { headers, details });
}

/**
 * Codes service-kit answers for this service (consumerErrorFormat): invalid or hostile input, an
 * unreadable or too large body, an unknown path, an unexpected error, a backing service down.
 */
const KIT_ERROR_CODES = [
  "validation_error",
  "bad_request",
  "payload_too_large",
  "not_found",
  "internal_error",
  "service_unavailable",
] as const;

/** Every error code consumer-auth answers with. */
export type ConsumerErrorCode =
  | (typeof ErrorCatalog)[keyof typeof ErrorCatalog]["code"]
  | (typeof OtpErrors)[keyof typeof OtpErrors]["code"]
  | (typeof KIT_ERROR_CODES)[number];
