import { z } from "zod";

/**
 * `otp.v1.requested`: the delivery job consumer-auth publishes (JetStream stream OTP_REQUESTS,
 * subject `otp.v1.requested`, message id = envelope id) and otp-delivery consumes. It carries the
 * code in clear because delivering it is its whole purpose; the stream keeps messages no longer
 * than a code lives, and nobody logs it. Sent inside the usual EventEnvelope (`type` =
 * OTP_REQUESTED_TYPE), with this as `data`.
 */
export const OTP_REQUESTED_TYPE = "otp.v1.requested";

export const OtpChannel = z.enum(["email", "sms"]);
export type OtpChannel = z.infer<typeof OtpChannel>;

export const OtpRequestedData = z.object({
  /** `otp_…`: one id per issued code (delivery records key on the envelope id). */
  requestId: z.string().startsWith("otp_"),
  channel: OtpChannel,
  /** Lower-cased email, or E.164 phone number. */
  to: z.string().min(3).max(320),
  code: z.string().regex(/^\d{4,10}$/),
  /** ISO time the code stops working. */
  expiresAt: z.string().datetime(),
  ttlSeconds: z.number().int().positive(),
  organizationName: z.string(),
  /** ISO 3166-1 alpha-2 of a phone destination (SMS only). */
  country: z.string().length(2).optional(),
});
export type OtpRequestedData = z.infer<typeof OtpRequestedData>;

/** Data of `otp.v1.delivered` / `otp.v1.delivery_failed` (never the code). */
export const OtpDeliveryOutcomeData = z.object({
  requestId: z.string(),
  deliveryId: z.string().startsWith("dlv_"),
  channel: OtpChannel,
  /** Masked destination, e.g. `j***@example.com`, `+1202*****34`. */
  to: z.string(),
  attempts: z.number().int().nonnegative(),
  providerMessageId: z.string().nullable().optional(),
  error: z.string().optional(),
});
export type OtpDeliveryOutcomeData = z.infer<typeof OtpDeliveryOutcomeData>;
