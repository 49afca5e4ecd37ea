import { SeedErrors } from "@authplane/contracts";
import { AppError } from "@authplane/service-kit";

/**
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
  identityConflict: {
    status: 409,
    code: "identity_conflict",
    message: "The identity is linked to another consumer and cannot be attached to this guest.",
  },
  originNotAllowed: {
    status: 403,
    code: "origin_not_allowed",
    message: "This page's origin is not one of the organization's allowed origins for this key's mode.",
  },
  rateLimited: { status: 429, code: "rate_limited" },
} as const;

type CatalogEntry = { status: number; code: string; message?: string };

export function appError(entry: CatalogEntry, options?: ConstructorParameters<typeof AppError>[3]): AppError {
  return new AppError(entry.status, entry.code, entry.message, options);
}
