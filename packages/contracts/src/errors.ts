import { z } from "zod";

/**
 * Seed 000 error body (consumer and admin APIs): `{"error": "<code or sentence>", "message"?}`.
 * The seed's own values are kept byte for byte; codes the seed leaves out use snake_case.
 */
export const ConsumerErrorBody = z.object({
  error: z.string(),
  message: z.string().optional(),
  issues: z.array(z.unknown()).optional(),
  errorId: z.string().optional(),
});
export type ConsumerErrorBody = z.infer<typeof ConsumerErrorBody>;

/** Error values fixed by seed 000. */
export const SeedErrors = {
  authenticationRequired: "Authentication required",
  secretKeyRequired: "Secret key required",
  otpExpired: "otp_expired",
  otpInvalid: "otp_invalid",
} as const;

/**
 * Passkey API error codes: seed 003's ErrorCode enum, plus the codes the passkey product's public
 * SDKs know (their `ErrorCode` enums) and this platform answers with: key problems
 * (`InvalidAuthorizationHeader`, `SecretKeyNotFound`, `SecretKeyExpired`, `PublishableKeyNotFound`),
 * `TokenNotFound` (unknown, as opposed to expired or spent, `TokenExpired`) and
 * `UsingDeactivatedCredential`, and the username conflicts of attach (`UsernameInUseByDifferentAccount`,
 * `UsernameCannotChange`). Statuses: services/webauthn-credential/README.md "Errors".
 */
export const PasskeyErrorCode = z.enum([
  "AuthenticatingUserAccountNotFound",
  "EntityNotFound",
  "InvalidInput",
  "InternalLimitReached",
  "MalformedAuthenticationData",
  "PaymentMethodNeeded",
  "PermissionViolation",
  "TokenExpired",
  "InternalError",
  "InvalidAuthorizationHeader",
  "SecretKeyNotFound",
  "SecretKeyExpired",
  "PublishableKeyNotFound",
  "TokenNotFound",
  "UsingDeactivatedCredential",
  "UsernameInUseByDifferentAccount",
  "UsernameCannotChange",
]);
export type PasskeyErrorCode = z.infer<typeof PasskeyErrorCode>;

export const PasskeyError = z.object({ code: PasskeyErrorCode, message: z.string() });
export type PasskeyError = z.infer<typeof PasskeyError>;

/** Seed 003 wrapped response: `{ result, errors }`; non-2xx has at least one error. */
export const PasskeyWrapped = <T extends z.ZodType>(result: T) =>
  z.object({ result: result.nullable(), errors: z.array(PasskeyError).optional() });
