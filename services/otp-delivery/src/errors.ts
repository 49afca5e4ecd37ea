import { AppError } from "@authplane/service-kit";

/** This service's error catalog (HTTP format of seed 000: `{"error", "message"?}`). */
export const Errors = {
  invalidRecipient: () => new AppError(400, "invalid_recipient", "`to` must be an email address or an E.164 phone number."),
} as const;
