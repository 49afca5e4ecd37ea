import { z } from "zod";
import { OrganizationCreatedData, OrganizationSettingsUpdatedData, KeyCreatedData, OrgGetReply, OrgGetRequest } from "./admin.js";
import {
  ConsumerCreatedData,
  ConsumerLinkedData,
  ConsumerUpgradedData,
  RefreshTokenReuseDetectedData,
  SessionCreatedData,
  SessionRefreshedData,
  SessionRevokedData,
} from "./consumer-auth.js";
import { EventEnvelope, EventType, KeyChangedData, KeyRotatedData } from "./events.js";
import { KeyVerifyReply, KeyVerifyRequest } from "./keys.js";
import { OTP_REQUESTED_TYPE, OTP_REQUESTED_VERSION, OtpDeliveryOutcomeData, OtpRequestedData } from "./otp.js";
import { CredentialEventData, PasskeyAuthenticatedData } from "./passkeys.js";
import { SubjectNames } from "./subjects.js";

/** The services that publish events or answer lookups. */
export type ServiceName = "admin-key" | "consumer-auth" | "otp-delivery" | "webauthn-credential";

/**
 * One (type, version) of the catalog: the schema of the envelope's `data`, who publishes it, and
 * on which stream: `events` = AUTH_EVENTS (subject `auth.<type>`, every internal subscriber may
 * read it), `otp` = OTP_REQUESTS (subject `<type>`, a job for otp-delivery only).
 */
export interface EventCatalogEntry<S extends z.ZodType = z.ZodType> {
  data: S;
  publisher: ServiceName;
  stream: "events" | "otp";
  summary: string;
}

function entry<S extends z.ZodType>(data: S, publisher: ServiceName, summary: string, stream: "events" | "otp" = "events") {
  return { data, publisher, stream, summary } satisfies EventCatalogEntry<S>;
}

/**
 * Every event the services publish: type → envelope version → the schema of `data`. Publishers
 * build envelopes through it (service-kit `newEvent` is typed by it and parses `data` with it),
 * subscribers parse with it (`parseEvent`) before they dispatch, and the AsyncAPI document is
 * generated from it. A new shape of an event is a new version (or a new type), published
 * alongside the old one until every subscriber reads the new one; a version's schema only ever
 * gains optional fields.
 */
export const EventCatalog = {
  [EventType.organizationCreated]: {
    1: entry(OrganizationCreatedData, "admin-key", "An organization was created (envelope mode null), with both modes' settings."),
  },
  [EventType.organizationSettingsUpdated]: {
    1: entry(OrganizationSettingsUpdatedData, "admin-key", "One mode's settings of an organization changed (envelope mode = that mode)."),
  },
  [EventType.keyCreated]: {
    1: entry(KeyCreatedData, "admin-key", "An API key was issued (never the key itself, only its prefix and last 4)."),
  },
  [EventType.keyRotated]: {
    1: entry(KeyRotatedData, "admin-key", "An API key was rotated: it stops working at `expiresAt`; `replacedByKeyId` is its replacement."),
  },
  [EventType.keyRevoked]: { 1: entry(KeyChangedData, "admin-key", "An API key was revoked: it stops working at once.") },
  [EventType.consumerCreated]: { 1: entry(ConsumerCreatedData, "consumer-auth", "A consumer (guest or registered) was created.") },
  [EventType.consumerLinked]: {
    1: entry(ConsumerLinkedData, "consumer-auth", "An external identity was attached to an existing consumer."),
  },
  [EventType.consumerUpgraded]: {
    1: entry(ConsumerUpgradedData, "consumer-auth", "A guest became a registered consumer in place (same id)."),
  },
  [EventType.sessionCreated]: { 1: entry(SessionCreatedData, "consumer-auth", "A consumer session was started.") },
  [EventType.sessionRefreshed]: { 1: entry(SessionRefreshedData, "consumer-auth", "A session's refresh token was used and rotated.") },
  [EventType.sessionRevoked]: {
    1: entry(SessionRevokedData, "consumer-auth", "A session was revoked (logout, refresh-token reuse, guest upgrade)."),
  },
  [EventType.refreshTokenReuseDetected]: {
    1: entry(RefreshTokenReuseDetectedData, "consumer-auth", "A spent refresh token was presented again; its session is revoked."),
  },
  [OTP_REQUESTED_TYPE]: {
    [OTP_REQUESTED_VERSION]: entry(
      OtpRequestedData,
      "consumer-auth",
      "A one-time code delivery job for otp-delivery (OTP_REQUESTS stream). The code is sealed to otp-delivery's key: no other reader can open it.",
      "otp",
    ),
  },
  [EventType.otpDelivered]: {
    1: entry(OtpDeliveryOutcomeData, "otp-delivery", "A one-time code was handed to the email or SMS provider."),
  },
  [EventType.otpDeliveryFailed]: {
    1: entry(
      OtpDeliveryOutcomeData,
      "otp-delivery",
      "A one-time code could not be delivered (retries exhausted or refused by the provider).",
    ),
  },
  [EventType.credentialCreated]: { 1: entry(CredentialEventData, "webauthn-credential", "A passkey was registered.") },
  [EventType.credentialUpdated]: { 1: entry(CredentialEventData, "webauthn-credential", "A passkey's name or state changed.") },
  [EventType.credentialDeactivated]: { 1: entry(CredentialEventData, "webauthn-credential", "A passkey was deactivated.") },
  [EventType.passkeyAuthenticated]: { 1: entry(PasskeyAuthenticatedData, "webauthn-credential", "A user signed in with a passkey.") },
} as const;
export type EventCatalog = typeof EventCatalog;

/** Every catalogued event type, e.g. `keys.v1.rotated`. */
export type CatalogEventType = keyof EventCatalog;
/** The envelope versions of a type, e.g. `1`. */
export type EventVersionOf<T extends CatalogEventType> = keyof EventCatalog[T] & number;
type SchemaOf<T extends CatalogEventType, V extends EventVersionOf<T>> = EventCatalog[T][V] extends { data: infer S extends z.ZodType }
  ? S
  : never;
/** `data` of (type, version) as subscribers read it (parsed, defaults applied). */
export type EventDataOf<T extends CatalogEventType, V extends EventVersionOf<T> = EventVersionOf<T>> = z.output<SchemaOf<T, V>>;
/** `data` of (type, version) as a publisher may pass it (before defaults). */
export type EventDataInputOf<T extends CatalogEventType, V extends EventVersionOf<T> = EventVersionOf<T>> = z.input<SchemaOf<T, V>>;

/** The envelope of one (type, version), its `data` typed by the catalog. */
export type CatalogEvent<T extends CatalogEventType, V extends EventVersionOf<T> = EventVersionOf<T>> = Omit<
  EventEnvelope,
  "type" | "version" | "data"
> & { type: T; version: V; data: EventDataOf<T, V> };

/** Any catalogued event; narrow on `type` (and `version`) to read a typed `data`. */
export type AuthEvent = { [T in CatalogEventType]: { [V in EventVersionOf<T>]: CatalogEvent<T, V> }[EventVersionOf<T>] }[CatalogEventType];

/** Every (type, version) of the catalog with its entry, in catalog order. */
export function catalogEntries(): Array<{ type: CatalogEventType; version: number; entry: EventCatalogEntry }> {
  const out: Array<{ type: CatalogEventType; version: number; entry: EventCatalogEntry }> = [];
  for (const [type, versions] of Object.entries(EventCatalog) as Array<[CatalogEventType, Record<number, EventCatalogEntry>]>) {
    for (const [version, e] of Object.entries(versions)) out.push({ type, version: Number(version), entry: e });
  }
  return out;
}

/** The catalog entry of (type, version), or undefined when it is not catalogued. */
export function catalogEntry(type: string, version: number): EventCatalogEntry | undefined {
  if (!Object.hasOwn(EventCatalog, type)) return undefined;
  const versions = EventCatalog[type as CatalogEventType] as Record<number, EventCatalogEntry>;
  return Object.hasOwn(versions, version) ? versions[version] : undefined;
}

const envelopeSchemas = new Map<string, z.ZodType>();

/** The whole envelope of one (type, version): `type` and `version` fixed, `data` the catalog's schema. */
export function eventEnvelopeSchema<T extends CatalogEventType, V extends EventVersionOf<T>>(
  type: T,
  version: V,
): z.ZodType<CatalogEvent<T, V>>;
export function eventEnvelopeSchema(type: string, version: number): z.ZodType | undefined;
export function eventEnvelopeSchema(type: string, version: number): z.ZodType | undefined {
  const key = `${type}#${version}`;
  let schema = envelopeSchemas.get(key);
  if (!schema) {
    const e = catalogEntry(type, version);
    if (!e) return undefined;
    schema = EventEnvelope.extend({ type: z.literal(type), version: z.literal(version), data: e.data });
    envelopeSchemas.set(key, schema);
  }
  return schema;
}

export type ParsedEvent = { success: true; event: AuthEvent } | { success: false; error: string };

/**
 * Parses a message body (already JSON-decoded) as a catalogued event: the envelope, then `data`
 * with the schema of its (type, version). The error names the failing paths and rules only, never
 * a value, so it can be logged even when the message carries something secret.
 */
export function parseEvent(raw: unknown): ParsedEvent {
  const envelope = EventEnvelope.safeParse(raw);
  if (!envelope.success) return { success: false, error: `envelope: ${describeIssues(envelope.error)}` };
  const { type, version } = envelope.data;
  const schema = eventEnvelopeSchema(type, version);
  if (!schema) return { success: false, error: `not in the event catalog: ${type.slice(0, 100)} version ${version}` };
  const parsed = schema.safeParse(envelope.data);
  if (!parsed.success) return { success: false, error: `${type} v${version}: ${describeIssues(parsed.error)}` };
  return { success: true, event: parsed.data as AuthEvent };
}

/** Parses the raw bytes of a NATS message body as a catalogued event (see parseEvent). */
export function parseEventMessage(body: Uint8Array | string): ParsedEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
  } catch {
    return { success: false, error: "not JSON" };
  }
  return parseEvent(raw);
}

/** `path: code` of the first issues (never the input values). */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.code}`)
    .join("; ");
}

/**
 * What a responder answers when it cannot look the request up (its database is down): neither
 * reply shape, so the requester fails fast (503) instead of waiting for its timeout.
 */
export const LookupUnavailableReply = z.object({ error: z.literal("unavailable") });
export type LookupUnavailableReply = z.infer<typeof LookupUnavailableReply>;

/**
 * The request/reply lookups over core NATS (queue group `admin-key`), by subject name (without the
 * test prefix): the request and reply schemas, parsed by the responder and by the requester.
 */
export const LookupCatalog = {
  [SubjectNames.keysVerify]: {
    request: KeyVerifyRequest,
    reply: KeyVerifyReply,
    responder: "admin-key",
    summary: "Is this pk_/sk_ key valid, and for which organization, mode and settings? (The request carries the key: never log it.)",
  },
  [SubjectNames.orgGet]: {
    request: OrgGetRequest,
    reply: OrgGetReply,
    responder: "admin-key",
    summary: "An organization's name and one mode's public settings, by id.",
  },
} as const satisfies Record<string, { request: z.ZodType; reply: z.ZodType; responder: ServiceName; summary: string }>;
export type LookupName = keyof typeof LookupCatalog;
