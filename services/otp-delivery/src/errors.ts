import { AppError } from "@authplane/service-kit";

/** This service's error catalog (HTTP format of seed 000, `consumerErrorFormat`: `{"error", "message"?}`). */
export const Errors = {
  invalidRecipient: () => new AppError(400, "invalid_recipient", "`to` must be an email address or an E.164 phone number."),
} as const;

/** Every code otp-delivery answers with over HTTP: the catalog's and the kit's. */
export type ServiceErrorCode =
  | "invalid_recipient"
  | "validation_error"
  | "bad_request"
  | "not_found"
  | "internal_error"
  | "service_unavailable";
