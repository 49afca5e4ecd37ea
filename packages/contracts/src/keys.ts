import { z } from "zod";
import { KeyKind, Mode } from "./ids.js";

/** The organization's WebAuthn relying party (admin-key settings). */
export const WebAuthnSettings = z.object({
  rpId: z.string().min(1).max(253),
  rpName: z.string().min(1).max(200),
  origins: z.array(z.string().url()).max(50),
  /**
   * Require user verification (biometrics/PIN) for every passkey registration and sign-in:
   * options ask `userVerification: "required"` and responses without the UV flag are refused.
   * Absent (older admin-key, or not set) = false.
   */
  requireUserVerification: z.boolean().default(false),
});
export type WebAuthnSettings = z.infer<typeof WebAuthnSettings>;
/** What a caller may send (requireUserVerification optional). */
export type WebAuthnSettingsInput = z.input<typeof WebAuthnSettings>;

/** Default absolute lifetime of a consumer session (30 days). */
export const DEFAULT_SESSION_LIFETIME_SECONDS = 2_592_000;

/** Most browser origins one organization (in one mode) may list for the consumer API. */
export const MAX_ALLOWED_ORIGINS = 50;

/** Per-organization settings other services need. */
export const OrganizationSettings = z.object({
  accessTokenTtlSeconds: z.number().int().positive(),
  refreshTokenTtlSeconds: z.number().int().positive(),
  /**
   * Absolute lifetime of a consumer session from its sign-in: refresh never extends a session
   * past it (refresh and access tokens expire by then at the latest). Absent in replies of an
   * older admin-key: the default.
   */
  sessionLifetimeSeconds: z.number().int().positive().default(DEFAULT_SESSION_LIFETIME_SECONDS),
  webauthn: WebAuthnSettings.nullable(),
  /**
   * Browser origins (`scheme://host[:port]`, normalised as browsers send them in `Origin`) whose
   * pages may call the consumer API (seed 000) with this mode's publishable key. Empty: no
   * cross-origin page may. Defaults to `[]` so a reply from an admin-key without the field parses.
   */
  allowedOrigins: z.array(z.string().max(2048)).max(MAX_ALLOWED_ORIGINS).default([]),
  /**
   * Destination countries (ISO 3166-1 alpha-2, upper case) OTP text messages of this mode may go
   * to. Empty: every country (SMS still bounded by the organization-wide SMS ceilings). Defaults
   * to `[]` so a reply from an admin-key without the field parses.
   */
  smsAllowedCountries: z
    .array(z.string().regex(/^[A-Z]{2}$/))
    .max(300)
    .default([]),
});
export type OrganizationSettings = z.infer<typeof OrganizationSettings>;

/** Request of `keys.v1.verify`. The key travels only over NATS, never into a log. */
export const KeyVerifyRequest = z.object({ key: z.string().min(1).max(200) });
export type KeyVerifyRequest = z.infer<typeof KeyVerifyRequest>;

/** Why a key does not authenticate. */
export const KeyInvalidReason = z.enum(["not_found", "expired", "revoked"]);
export type KeyInvalidReason = z.infer<typeof KeyInvalidReason>;

/** Reply of `keys.v1.verify`. */
export const KeyVerifyReply = z.discriminatedUnion("valid", [
  z.object({
    valid: z.literal(true),
    keyId: z.string(),
    organizationId: z.string(),
    organizationName: z.string(),
    mode: Mode,
    kind: KeyKind,
    /** ISO time when a rotated key stops working; null while it has no expiry. */
    expiresAt: z.string().datetime().nullable(),
    settings: OrganizationSettings,
  }),
  z.object({
    valid: z.literal(false),
    /**
     * Why (optional, older responders omit it): `not_found` = no such key or not a key at all,
     * `expired` = a rotated key past its expiry, `revoked` = revoked. Callers may tell an expired
     * key from an unknown one (the passkey API's SecretKeyExpired / SecretKeyNotFound).
     */
    reason: KeyInvalidReason.optional(),
  }),
]);
export type KeyVerifyReply = z.infer<typeof KeyVerifyReply>;
export type VerifiedKey = Extract<KeyVerifyReply, { valid: true }>;
