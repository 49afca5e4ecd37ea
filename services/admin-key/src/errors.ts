import { SeedErrors } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/** admin-key's error catalog (seed 000 format, `consumerErrorFormat`: `{"error", "message"?}`). */
export const Errors = {
  /** No, unknown, revoked or expired key; wrong operator token. Seed wording, no message. */
  authenticationRequired: () =>
    new AppError(401, SeedErrors.authenticationRequired, undefined, { headers: { "WWW-Authenticate": 'Bearer realm="authplane"' } }),
  /** A publishable key where a secret key is needed. Seed wording. */
  secretKeyRequired: () => new AppError(403, SeedErrors.secretKeyRequired),
  organizationNotFound: () => new AppError(404, "organization_not_found", "No such organization."),
  keyNotFound: () => new AppError(404, "key_not_found", "No such key."),
  keyNotActive: () => new AppError(409, "key_not_active", "The key is revoked, expired or already rotated."),
} as const;

/**
 * Every code admin-key answers with: the catalog's, and the kit's (invalid input, an unreadable
 * body, a body over the limit, an unknown path, a rate limit, 500, a backing service down).
 */
export type ServiceErrorCode =
  | (typeof SeedErrors)["authenticationRequired" | "secretKeyRequired"]
  | "organization_not_found"
  | "key_not_found"
  | "key_not_active"
  | "validation_error"
  | "bad_request"
  | "payload_too_large"
  | "not_found"
  | "rate_limited"
  | "internal_error"
  | "service_unavailable";
