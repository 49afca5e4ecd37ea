import { z } from "zod";
import { Mode } from "./ids.js";

/**
 * The one envelope for every event on NATS. Published with `id` as the JetStream message id, so a
 * re-published event (outbox relay retry) is de-duplicated by the stream.
 */
export const EventEnvelope = z.object({
  id: z.string().startsWith("evt_"),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.string().datetime(),
  organizationId: z.string().nullable(),
  mode: Mode.nullable(),
  data: z.record(z.string(), z.unknown()),
  /**
   * W3C trace context of the work that produced the event (absent when tracing is off), so that
   * a consumer continues the same trace, also when the event went through an outbox table.
   */
  traceparent: z.string().max(128).optional(),
  tracestate: z.string().max(512).optional(),
  /** X-Request-Id of the request that produced the event (log correlation across services). */
  reqId: z.string().max(64).optional(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/**
 * Event types, `<entities>.v<version>.<verb>`; the subject is `auth.<type>` (see subjects.ts),
 * e.g. `auth.keys.v1.revoked`. Frozen names: a new shape gets a new version, published alongside.
 */
export const EventType = {
  organizationCreated: "organizations.v1.created",
  organizationSettingsUpdated: "organizations.v1.settings_updated",
  keyCreated: "keys.v1.created",
  keyRotated: "keys.v1.rotated",
  keyRevoked: "keys.v1.revoked",
  consumerCreated: "consumers.v1.created",
  consumerLinked: "consumers.v1.linked",
  consumerUpgraded: "consumers.v1.upgraded",
  sessionCreated: "sessions.v1.created",
  sessionRefreshed: "sessions.v1.refreshed",
  sessionRevoked: "sessions.v1.revoked",
  refreshTokenReuseDetected: "sessions.v1.refresh_token_reuse_detected",
  otpDelivered: "otp.v1.delivered",
  otpDeliveryFailed: "otp.v1.delivery_failed",
  credentialCreated: "credentials.v1.created",
  credentialUpdated: "credentials.v1.updated",
  credentialDeactivated: "credentials.v1.deactivated",
  passkeyAuthenticated: "passkeys.v1.authenticated",
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Data of `keys.v1.revoked` (and the base of `keys.v1.rotated`): what a key-verification cache needs to drop entries. */
export const KeyChangedData = z.object({
  keyId: z.string(),
  organizationId: z.string(),
  kind: z.enum(["publishable", "secret"]),
  mode: Mode,
  /** ISO time from which the key stops working (null: at once). */
  expiresAt: z.string().datetime().nullable(),
});
export type KeyChangedData = z.infer<typeof KeyChangedData>;

/** Data of `keys.v1.rotated`: KeyChangedData plus the key issued to replace this one. */
export const KeyRotatedData = KeyChangedData.extend({
  /** Id of the new key (its `keys.v1.created` names this key in `replacesKeyId`). */
  replacedByKeyId: z.string(),
});
export type KeyRotatedData = z.infer<typeof KeyRotatedData>;
