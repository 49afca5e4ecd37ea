import { SeedErrors } from "@authplane/contracts";
import { AppError, ValidationError } from "@authplane/service-kit";

/** This service's error catalog (HTTP format of seed 000, `consumerErrorFormat`: `{"error", "message"?}`). */
export const Errors = {
  invalidRecipient: () => new AppError(400, "invalid_recipient", "`to` must be an email address or an E.164 phone number."),
  /** Admin endpoints: no `Authorization: Bearer <OPERATOR_TOKEN>`, or another token: seed 000's 401, exactly as admin-key answers it (no message). */
  authenticationRequired: () =>
    new AppError(401, SeedErrors.authenticationRequired, undefined, { headers: { "WWW-Authenticate": 'Bearer realm="authplane"' } }),
  /** Admin endpoints: the token is right but X-Organization-Id / X-Mode are missing or malformed. */
  scopeHeadersRequired: (headers: string[]) =>
    new ValidationError(headers.map((h) => ({ path: [h], message: "required: X-Organization-Id (org_…) and X-Mode (live or test)" }))),
  /** A `cursor` this service did not hand out (or altered). */
  invalidCursor: () => new ValidationError([{ path: ["cursor"], message: "not a cursor from nextCursor" }]),
} as const;

/** Every code otp-delivery answers with over HTTP: the catalog's and the kit's. */
export type ServiceErrorCode =
  | "invalid_recipient"
  | typeof SeedErrors.authenticationRequired
  | "rate_limited"
  | "validation_error"
  | "bad_request"
  | "not_found"
  | "internal_error"
  | "service_unavailable";
