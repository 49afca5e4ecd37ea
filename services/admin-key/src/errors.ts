import { SeedErrors } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/** admin-key's error catalog (seed 000 format: `{"error", "message"?}`). */
export const AdminErrors = {
  /** No, unknown, revoked or expired key; wrong operator token. Seed wording, no message. */
  authenticationRequired: () =>
    new AppError(401, SeedErrors.authenticationRequired, undefined, { headers: { "WWW-Authenticate": 'Bearer realm="authplane"' } }),
  /** A publishable key where a secret key is needed. Seed wording. */
  secretKeyRequired: () => new AppError(403, SeedErrors.secretKeyRequired),
  organizationNotFound: () => new AppError(404, "organization_not_found", "No such organization."),
  keyNotFound: () => new AppError(404, "key_not_found", "No such key."),
  keyNotActive: () => new AppError(409, "key_not_active", "The key is revoked, expired or already rotated."),
  invalidSettings: (message: string) => new AppError(400, "invalid_settings", message),
} as const;

export type AdminErrorName = keyof typeof AdminErrors;
