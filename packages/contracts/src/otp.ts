import { z } from "zod";

/**
 * `otp.v1.requested`: the delivery job consumer-auth publishes (JetStream stream OTP_REQUESTS,
 * subject `otp.v1.requested`, message id = envelope id) and otp-delivery consumes. The code is
 * never in clear: it is sealed to otp-delivery's X25519 key (`sealedCode`), bound to the job's
 * id, organization, mode, request id, channel and destination, so NATS, its store and any other
 * reader of the stream learn no code. Sent inside the usual EventEnvelope (`type` =
 * OTP_REQUESTED_TYPE, `version` = OTP_REQUESTED_VERSION), with this as `data`.
 */
export const OTP_REQUESTED_TYPE = "otp.v1.requested";
/** Envelope version of the sealed job shape (version 1 carried the code in clear; refused now). */
export const OTP_REQUESTED_VERSION = 2;

/** The only sealing algorithm: ephemeral X25519, HKDF-SHA256, AES-256-GCM (service-kit otp-seal). */
export const SEALED_CODE_ALG = "X25519-HKDF-SHA256-A256GCM";

const b64url = (bytes: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`));

/** A code sealed to otp-delivery (all binary fields base64url without padding). */
export const SealedOtpCode = z.object({
  alg: z.literal(SEALED_CODE_ALG),
  /** Id of the recipient key (otp-delivery may hold several during a rotation). */
  kid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** Ephemeral X25519 public key (32 bytes). */
  epk: b64url(32),
  /** AES-GCM IV (12 bytes). */
  iv: b64url(12),
  /** Ciphertext of the code. */
  ct: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** AES-GCM tag (16 bytes). */
  tag: b64url(16),
});
export type SealedOtpCode = z.infer<typeof SealedOtpCode>;

export const OtpChannel = z.enum(["email", "sms"]);
export type OtpChannel = z.infer<typeof OtpChannel>;

export const OtpRequestedData = z.object({
  /** `otp_…`: one id per issued code (delivery records key on the envelope id). */
  requestId: z.string().startsWith("otp_"),
  channel: OtpChannel,
  /** Lower-cased email, or E.164 phone number. */
  to: z.string().min(3).max(320),
  /** The code, sealed to otp-delivery (never in clear on NATS). */
  sealedCode: SealedOtpCode,
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
