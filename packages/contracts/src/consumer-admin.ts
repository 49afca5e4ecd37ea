import { z } from "zod";
import { SessionType } from "./consumer-auth.js";

/**
 * consumer-auth's Admin API (issue 14): consumers, their sessions and sign-in numbers of one
 * organization and mode, for the dashboard and the organization's server. Timestamps are ISO 8601.
 */

/** How a session was signed in: a guest, a one-time code by email or by SMS, an external identity. */
export const SignInMethod = z.enum(["guest", "email_otp", "phone_otp", "external"]);
export type SignInMethod = z.infer<typeof SignInMethod>;

const Timestamp = z.string().datetime();

/** A consumer as the Admin API shows it. */
export const AdminConsumer = z.object({
  id: z.string(),
  kind: z.enum(["guest", "registered"]),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  emailVerifiedAt: Timestamp.nullable(),
  phoneVerifiedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  upgradedAt: Timestamp.nullable(),
  /** Sessions neither revoked nor dead (an access token or a usable refresh token still valid). */
  activeSessions: z.number().int().min(0),
});
export type AdminConsumer = z.infer<typeof AdminConsumer>;

/** GET /api/v1/consumers */
export const AdminConsumerList = z.object({
  data: z.array(AdminConsumer),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type AdminConsumerList = z.infer<typeof AdminConsumerList>;

/** A session as the Admin API shows it (never a token). */
export const AdminSession = z.object({
  id: z.string(),
  type: SessionType,
  method: SignInMethod,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: Timestamp,
  lastRefreshedAt: Timestamp.nullable(),
  /** Expiry of the session's current refresh token (absent when none is usable). */
  refreshExpiresAt: Timestamp.optional(),
  revokedAt: Timestamp.nullable(),
  revokedReason: z.string().nullable(),
});
export type AdminSession = z.infer<typeof AdminSession>;

/** GET /api/v1/consumers/{consumerId}/sessions */
export const AdminSessionList = z.object({
  data: z.array(AdminSession),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type AdminSessionList = z.infer<typeof AdminSessionList>;

/** POST …/sessions/{sessionId}/revoke and …/sessions/revoke: how many sessions this call revoked. */
export const AdminRevokeResult = z.object({ revoked: z.number().int().min(0) });
export type AdminRevokeResult = z.infer<typeof AdminRevokeResult>;

/** GET /api/v1/stats/consumers */
export const ConsumerStats = z.object({
  /** One entry per UTC day of the window, oldest first, every day present. */
  days: z.array(
    z.object({
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      signIns: z.object({
        guest: z.number().int().min(0),
        email_otp: z.number().int().min(0),
        phone_otp: z.number().int().min(0),
        external: z.number().int().min(0),
      }),
    }),
  ),
  activeSessions: z.number().int().min(0),
  consumers: z.object({ total: z.number().int().min(0), registered: z.number().int().min(0), guest: z.number().int().min(0) }),
});
export type ConsumerStats = z.infer<typeof ConsumerStats>;
