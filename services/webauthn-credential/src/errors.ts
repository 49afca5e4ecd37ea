import type { KeyInvalidReason, PasskeyError } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/**
 * Codes this service answers with: the contracts' PasskeyErrorCode (seed 003's enum and the codes
 * the passkey SDKs know), plus `TooManyRequests` for 429
 * (the seed lists HTTP 429 but no code for it; `InternalLimitReached` is its 422 "a limit other
 * than too many requests", so it would mislead SDKs that retry on 429).
 */
export type ServiceErrorCode = PasskeyError["code"] | "TooManyRequests";

/** The error catalog: one place for statuses and messages (routes throw `Errors.x(...)`). */
export const Errors = {
  invalidInput: (message: string) => new AppError(400, "InvalidInput", message),
  /**
   * Key problems are 400s (seed 003: "Your request is invalid. This may be a bad API key"), each
   * with the code the SDKs know. Missing/unreadable header, not a key, or the wrong kind of key:
   */
  invalidAuthorizationHeader: (message: string) => new AppError(400, "InvalidAuthorizationHeader", message),
  /** A well-formed secret key that does not authenticate: expired (rotated) vs unknown/revoked. */
  secretKey: (reason: KeyInvalidReason) =>
    reason === "expired"
      ? new AppError(400, "SecretKeyExpired", "This secret key has expired (it was rotated); use its replacement.")
      : new AppError(400, "SecretKeyNotFound", reason === "revoked" ? "This secret key has been revoked." : "No such secret key."),
  /** The SDKs have no PublishableKeyExpired: an expired publishable key is not found either. */
  publishableKey: (reason: KeyInvalidReason) =>
    new AppError(
      400,
      "PublishableKeyNotFound",
      reason === "expired"
        ? "This publishable key has expired (it was rotated); use its replacement."
        : reason === "revoked"
          ? "This publishable key has been revoked."
          : "No such publishable key.",
    ),
  /** Admin API: no operator token (Bearer) and no secret key (Basic), or a wrong operator token. */
  adminUnauthorized: () =>
    new AppError(
      401,
      "InvalidAuthorizationHeader",
      "Authentication required: the operator token (Authorization: Bearer …, with X-Organization-Id and X-Mode) or the organization's secret key (HTTP Basic, blank username).",
      { headers: { "WWW-Authenticate": 'Bearer realm="authplane-admin", Basic realm="authplane-admin"' } },
    ),
  permission: (message: string) => new AppError(403, "PermissionViolation", message),
  /** Given only after the assertion's signature verified (it tells that the passkey exists). */
  deactivatedCredential: () =>
    new AppError(403, "UsingDeactivatedCredential", "This passkey has been deactivated and cannot be used to sign in until reactivated."),
  noRelyingParty: () =>
    new AppError(
      403,
      "PermissionViolation",
      "The organization has no relying party configured (WebAuthn rpId, rpName and origins); set them in admin-key first.",
    ),
  /** Challenges: expired, spent, made up or of another ceremony (they are not tokens an SDK holds). */
  challengeExpired: (what: string) => new AppError(400, "TokenExpired", `The ${what} has expired, was already used, or does not exist.`),
  /** rtn_/atn_ tokens: issued by this organization and mode but past their lifetime, or already spent. */
  tokenExpired: (what: string, why: "expired" | "spent") =>
    new AppError(400, "TokenExpired", why === "spent" ? `The ${what} was already used.` : `The ${what} has expired.`),
  /** rtn_/atn_ tokens never issued (or whose tombstone is gone, see README "Tokens"). */
  tokenNotFound: (what: string) => new AppError(400, "TokenNotFound", `No such ${what}.`),
  entityNotFound: (message: string) => new AppError(404, "EntityNotFound", message),
  /**
   * Seed 003 lists no 404 in its HTTP table; this code is "your request is invalid" (400): the
   * passkey is unknown to this organization (never attached, deleted, or another org's), or its
   * signature did not verify: one answer, so a credential id cannot be probed without its key.
   */
  userNotFound: () =>
    new AppError(
      400,
      "AuthenticatingUserAccountNotFound",
      "No user account is attached to this passkey, or its signature did not verify. A new passkey signs in once its registration token is attached with /registration/attach.",
    ),
  malformed: (message: string) => new AppError(400, "MalformedAuthenticationData", message),
  conflict: (message: string) => new AppError(409, "InvalidInput", message),
  /** Attach: the username belongs to another user.id of this organization and mode (seed 409 "conflict"). */
  usernameInUse: () =>
    new AppError(
      409,
      "UsernameInUseByDifferentAccount",
      "This username is already attached to a different user.id; a username names one user (compared case-insensitively).",
    ),
  /** Attach: the user.id already has another username (seed 400 "your request is invalid"). */
  usernameCannotChange: () =>
    new AppError(
      400,
      "UsernameCannotChange",
      "This user.id already has a different username; a user's username cannot be changed by attaching a passkey.",
    ),
  /** The organization requires user verification and the authenticator did not verify the user. */
  userVerificationRequired: () =>
    new AppError(
      403,
      "PermissionViolation",
      "This organization requires user verification (biometrics, PIN or password of the authenticator); the authenticator did not verify the user.",
    ),
} as const;

/**
 * A @simplewebauthn verification error, safe to answer with: its messages end with what the server
 * expected (`…origin "x", expected one of: <every allowed origin>`, the expected challenge, RP ID),
 * which is configuration, so everything from "expected" on is dropped.
 */
export function publicVerifyMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/[,;:]?\s*\(?\bexpected\b[\s\S]*$/i, "").trim();
}
