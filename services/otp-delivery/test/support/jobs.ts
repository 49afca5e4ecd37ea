import { randomInt } from "node:crypto";
import { EventEnvelope, OTP_REQUESTED_TYPE, OTP_REQUESTED_VERSION, type OtpRequestedData, type Subjects } from "@authplane/contracts";
import {
  createPgPool,
  DEV_OTP_SEAL_KEYS,
  ensureStream,
  importSealPublicKey,
  newEventId,
  type PgPool,
  sealOtpCode,
  ulid,
} from "@authplane/service-kit";
import { eventually } from "@authplane/service-kit/testing";
import type { TestIsolation } from "@authplane/service-kit/testing";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export const ORG_ID = `org_${ulid()}`;

const used = new Set<string>();
/** A fresh random 6-digit code, unique within the test file. */
export function uniqueCode(): string {
  for (;;) {
    const code = String(randomInt(100000, 1000000));
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
  }
}

/** A delivery job as consumer-auth publishes it; `code` is the clear code (test side only, never published). */
export type TestJob = EventEnvelope & { data: OtpRequestedData; code: string };

/**
 * A job sealed as consumer-auth seals it, to `sealTo` (default: the development public key that
 * otp-delivery's default private key opens), for `organizationId` (default: this file's ORG_ID).
 */
export function otpJob(
  overrides: Partial<Omit<OtpRequestedData, "sealedCode">> & { code?: string } = {},
  sealTo: string = DEV_OTP_SEAL_KEYS.publicKey,
  mode: "live" | "test" = "live",
  organizationId: string = ORG_ID,
): TestJob {
  const { code = uniqueCode(), ...rest } = overrides;
  const plain = {
    requestId: `otp_${ulid()}`,
    channel: "email" as const,
    to: `user-${ulid().toLowerCase()}@example.com`,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
    ttlSeconds: 600,
    organizationName: "Acme",
    ...rest,
  };
  // Built by hand, not with newEvent: overrides may make a job the contract refuses on purpose.
  const env = {
    id: newEventId(),
    type: OTP_REQUESTED_TYPE,
    version: OTP_REQUESTED_VERSION,
    occurredAt: new Date().toISOString(),
    organizationId,
    mode,
  };
  const sealedCode = sealOtpCode(code, importSealPublicKey(sealTo), {
    eventId: env.id,
    organizationId: env.organizationId,
    mode: env.mode,
    requestId: plain.requestId,
    channel: plain.channel,
    to: plain.to,
  });
  const data: OtpRequestedData = { ...plain, sealedCode };
  return { ...EventEnvelope.parse({ ...env, data }), data, code };
}

export interface TestNats {
  nc: NatsConnection;
  js: JetStreamClient;
  close(): Promise<void>;
}

export async function connectTestNats(url: string): Promise<TestNats> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const js = jetstream(nc, { timeout: 3_000 });
  return { nc, js, close: () => nc.close() };
}

/** Declares the OTP stream as consumer-auth does (the publisher's side of the contract). */
export async function ensureOtpStream(nc: NatsConnection, subj: Subjects, maxAgeSeconds = 600): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, { name: subj.otpStream, subjects: [subj.otpRequested], maxAgeSeconds });
}

/** Publishes a job the way consumer-auth does: envelope JSON (no clear code), message id = envelope id. */
export async function publishJob(js: JetStreamClient, subj: Subjects, job: EventEnvelope, msgID = job.id): Promise<void> {
  await js.publish(subj.otpRequested, JSON.stringify(EventEnvelope.parse(job)), { msgID, timeout: 3_000 });
}

export function testPool(iso: TestIsolation, service = "otp-delivery"): PgPool {
  return createPgPool(iso.databaseUrl, iso.schema(service), 2);
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  request_id: string;
  organization_id: string | null;
  mode: string | null;
  channel: string;
  destination: string;
  status: string;
  attempts: number;
  provider_message_id: string | null;
  last_error: string | null;
}

export async function deliveries(pool: PgPool): Promise<DeliveryRow[]> {
  const { rows } = await pool.query<DeliveryRow>(`SELECT * FROM "deliveries" ORDER BY created_at, id`);
  return rows;
}

/** Collects every auth event published on the (test-prefixed) event subjects. */
export function collectEvents(nc: NatsConnection, subj: Subjects): { events: EventEnvelope[]; stop(): void } {
  const events: EventEnvelope[] = [];
  const sub = nc.subscribe(subj.allEvents);
  void (async () => {
    for await (const m of sub) events.push(EventEnvelope.parse(JSON.parse(new TextDecoder().decode(m.data))));
  })();
  return { events, stop: () => sub.unsubscribe() };
}

/** Service variables with short retry timings for tests. */
export function fastDelivery(extra: Record<string, string> = {}): Record<string, string> {
  return { DELIVERY_BACKOFF_SECONDS: "1,1,1", DELIVERY_MAX_ATTEMPTS: "4", DELIVERY_SEND_TIMEOUT_MS: "3000", ...extra };
}

/** `eventually`, typed: resolves with the first truthy value (no `undefined`/`null`/`false` left in the type). */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 5_000,
  intervalMs = 50,
): Promise<T> {
  const value = await eventually(fn, timeoutMs, intervalMs);
  if (!value) throw new Error("condition not met in time");
  return value;
}
