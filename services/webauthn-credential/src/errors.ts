import type { PasskeyError } from "@authplane/contracts";
import { AppError, type ErrorFormat, ValidationError } from "@authplane/service-kit";

/**
 * Codes this service answers with: the seed 003 ErrorCode enum, plus `TooManyRequests` for 429
 * (the seed lists HTTP 429 but no code for it; `InternalLimitReached` is its 422 "a limit other
 * than too many requests", so it would mislead SDKs that retry on 429).
 */
export type ServiceErrorCode = PasskeyError["code"] | "TooManyRequests";

/** The error catalog: one place for statuses and messages (routes throw `Errors.x(...)`). */
export const Errors = {
  invalidInput: (message: string) => new AppError(400, "InvalidInput", message),
  /** Missing or unreadable Authorization header, unknown/revoked/expired key. */
  unauthenticated: (message: string) =>
    new AppError(401, "PermissionViolation", message, { headers: { "WWW-Authenticate": 'Basic realm="passkeys"' } }),
  permission: (message: string) => new AppError(403, "PermissionViolation", message),
  noRelyingParty: () =>
    new AppError(
      403,
      "PermissionViolation",
      "The organization has no relying party configured (WebAuthn rpId, rpName and origins); set them in admin-key first.",
    ),
  tokenExpired: (what: string) => new AppError(400, "TokenExpired", `The ${what} has expired, was already used, or does not exist.`),
  entityNotFound: (message: string) => new AppError(404, "EntityNotFound", message),
  /**
   * Seed 003 lists no 404 in its HTTP table; this code is "your request is invalid" (400): the
   * passkey is unknown to this organization (never attached, deleted, or another org's).
   */
  userNotFound: () =>
    new AppError(
      400,
      "AuthenticatingUserAccountNotFound",
      "No user account is attached to this passkey. Attach the registration token with /registration/attach first.",
    ),
  malformed: (message: string) => new AppError(400, "MalformedAuthenticationData", message),
  conflict: (message: string) => new AppError(409, "InvalidInput", message),
} as const;

const SEED_CODES = new Set<string>([
  "AuthenticatingUserAccountNotFound",
  "EntityNotFound",
  "InvalidInput",
  "InternalLimitReached",
  "MalformedAuthenticationData",
  "PaymentMethodNeeded",
  "PermissionViolation",
  "TokenExpired",
  "InternalError",
  "TooManyRequests",
]);

/** Kit codes (validation, 404, body parser, 503, 500) mapped to seed 003 codes. */
function codeOf(err: AppError): ServiceErrorCode {
  if (SEED_CODES.has(err.code)) return err.code as ServiceErrorCode;
  if (err.status === 429) return "TooManyRequests";
  if (err.status === 404) return "EntityNotFound";
  if (err.status >= 500) return "InternalError";
  return "InvalidInput";
}

function messageOf(err: AppError, code: ServiceErrorCode): string {
  if (err instanceof ValidationError) {
    const parts = err.issues.map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`);
    return `Invalid input. ${parts.join("; ")}`;
  }
  // 500s disclose nothing (seed: "refusing to disclose additional details").
  if (code === "InternalError" && err.status === 500) return "An internal error has occurred.";
  return err.message;
}

/** Seed 003 wrapped format: `{"result": null, "errors": [{code, message}]}` for every error. */
export const wrappedErrorFormat: ErrorFormat = {
  body(err) {
    const code = codeOf(err);
    return { result: null, errors: [{ code, message: messageOf(err, code) }] };
  },
};
