// HTTP bodies and events of this area. Owned by the helper building that service.
import { z } from "zod";
import { Mode } from "./ids.js";

/** Session kinds of seed 000 (`session.type`). */
export const SessionType = z.enum(["guest", "otp", "external"]);
export type SessionType = z.infer<typeof SessionType>;

/** `session` object of the guest / OTP verify / exchange responses (seed 000 + extras). */
export const SessionInfo = z.object({
  type: SessionType,
  consumerId: z.string(),
  guestId: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  /** ISO time the access token issued with it expires. */
  expiresAt: z.string().datetime(),
  sessionId: z.string().startsWith("sess_"),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** Response of POST /guest, /otp/verify and /external/exchange. */
export const SessionResponse = z.object({
  session: SessionInfo,
  accessToken: z.string(),
  refreshToken: z.string(),
  accessTokenExpiresAt: z.string().datetime(),
  refreshTokenExpiresAt: z.string().datetime(),
  refreshTokenTtlSeconds: z.number().int().positive(),
});
export type SessionResponse = z.infer<typeof SessionResponse>;

/** Body of POST /external/authorize (secret key). */
export const ExternalAuthorizeRequest = z.object({
  provider: z.string().trim().min(1).max(100),
  issuer: z.string().trim().min(1).max(500),
  subject: z.string().trim().min(1).max(500),
  claims: z.record(z.string(), z.unknown()).optional(),
});
export type ExternalAuthorizeRequest = z.infer<typeof ExternalAuthorizeRequest>;

export const ExternalAuthorizeResponse = z.object({
  exchangeCode: z.string().startsWith("exc_"),
  expiresAt: z.string().datetime(),
  resolution: z.enum(["existing", "linked", "created"]),
});
export type ExternalAuthorizeResponse = z.infer<typeof ExternalAuthorizeResponse>;

export const ExternalExchangeRequest = z.object({ exchangeCode: z.string().min(1).max(200) });
export type ExternalExchangeRequest = z.infer<typeof ExternalExchangeRequest>;

export const RefreshRequest = z.object({ refreshToken: z.string().min(1).max(500) });
export type RefreshRequest = z.infer<typeof RefreshRequest>;

export const RefreshResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  accessTokenExpiresAt: z.string().datetime(),
  refreshTokenExpiresAt: z.string().datetime(),
});
export type RefreshResponse = z.infer<typeof RefreshResponse>;

export const IntrospectRequest = z.object({ token: z.string().min(1).max(8192) });
export type IntrospectRequest = z.infer<typeof IntrospectRequest>;

export const IntrospectResponse = z.union([
  z.object({
    active: z.literal(true),
    consumerId: z.string(),
    organizationId: z.string(),
    sessionId: z.string(),
    mode: Mode,
    exp: z.number().int(),
  }),
  z.object({ active: z.literal(false) }),
]);
export type IntrospectResponse = z.infer<typeof IntrospectResponse>;

// --- Event data (envelope `data`) ---

/** `consumers.v1.created` */
export const ConsumerCreatedData = z.object({
  consumerId: z.string(),
  kind: z.enum(["guest", "registered"]),
  email: z.string().nullable().optional(),
  phone: z.string().nullable().optional(),
});
export type ConsumerCreatedData = z.infer<typeof ConsumerCreatedData>;

/** `consumers.v1.linked`: an external identity was attached to an existing consumer. */
export const ConsumerLinkedData = z.object({
  consumerId: z.string(),
  provider: z.string(),
  issuer: z.string(),
  subject: z.string(),
  /** Why it was linked: `email` (verified email match) or `guest_upgrade`. */
  via: z.enum(["email", "guest_upgrade"]),
});
export type ConsumerLinkedData = z.infer<typeof ConsumerLinkedData>;

/** `consumers.v1.upgraded`: a guest became a registered consumer in place (same id). */
export const ConsumerUpgradedData = z.object({
  consumerId: z.string(),
  via: z.enum(["otp", "external"]),
  email: z.string().nullable().optional(),
  phone: z.string().nullable().optional(),
});
export type ConsumerUpgradedData = z.infer<typeof ConsumerUpgradedData>;

/** `sessions.v1.created` */
export const SessionCreatedData = z.object({
  sessionId: z.string(),
  consumerId: z.string(),
  type: SessionType,
  /** ISO time the first refresh token of the session expires. */
  refreshTokenExpiresAt: z.string().datetime(),
});
export type SessionCreatedData = z.infer<typeof SessionCreatedData>;

/** `sessions.v1.refreshed` */
export const SessionRefreshedData = z.object({ sessionId: z.string(), consumerId: z.string() });
export type SessionRefreshedData = z.infer<typeof SessionRefreshedData>;

/** `sessions.v1.revoked` */
export const SessionRevokedData = z.object({
  sessionId: z.string(),
  consumerId: z.string(),
  /**
   * `guest_upgrade`: the guest became a verified consumer (OTP verify or external exchange); every
   * session it had before the upgrade is revoked, the upgrade's own new session is not.
   * `admin`: revoked through consumer-auth's Admin API (the operator or the organization's server).
   */
  reason: z.enum(["logout", "refresh_token_reuse", "guest_upgrade", "admin"]),
});
export type SessionRevokedData = z.infer<typeof SessionRevokedData>;

/** `sessions.v1.refresh_token_reuse_detected` */
export const RefreshTokenReuseDetectedData = z.object({
  sessionId: z.string(),
  consumerId: z.string(),
  /** Internal id of the spent token that was replayed (never the token). */
  refreshTokenId: z.string(),
});
export type RefreshTokenReuseDetectedData = z.infer<typeof RefreshTokenReuseDetectedData>;
