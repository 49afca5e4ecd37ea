/**
 * The "Subscribe to auth events" example of the README (examples/subscribe-auth-events.ts, shown
 * there verbatim) against the machine's real NATS: it reads catalogued events from an isolated
 * AUTH_EVENTS stream, typed, and skips a message that is not a catalogued event without stopping.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { describeEvent, subscribeToAuthEvents } from "../examples/subscribe-auth-events.js";
import { type AuthEvent, EventType, eventEnvelopeSchema, subjects } from "../src/index.js";

const NATS_URL = process.env.TEST_NATS_URL ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const id = randomBytes(4).toString("hex");
const s = subjects(`tex${id}.`, `_tex${id}`);
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: s.eventsStream, subjects: [s.allEvents] });
});

afterAll(async () => {
  await jsm.streams.delete(s.eventsStream).catch(() => {});
  await nc.drain();
});

function envelope<T extends AuthEvent>(event: Omit<T, "id" | "occurredAt">): T {
  const schema = eventEnvelopeSchema(event.type, event.version);
  if (!schema) throw new Error(`${event.type} v${event.version} is not catalogued`);
  return schema.parse({
    id: `evt_${randomBytes(8).toString("hex")}`,
    occurredAt: new Date().toISOString(),
    ...event,
  }) as T;
}

test("the README shows the example file verbatim", () => {
  const readme = readFileSync(path.join(import.meta.dirname, "../README.md"), "utf8");
  const example = readFileSync(path.join(import.meta.dirname, "../examples/subscribe-auth-events.ts"), "utf8");
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
});

test("the example reads typed events and skips what is not a catalogued event", async () => {
  const js = jetstream(nc);
  const rotated = envelope({
    type: EventType.keyRotated,
    version: 1,
    organizationId: "org_1",
    mode: "live",
    data: {
      keyId: "key_old",
      organizationId: "org_1",
      kind: "secret",
      mode: "live",
      expiresAt: "2026-12-02T12:00:00.000Z",
      replacedByKeyId: "key_new",
    },
  });
  const revoked = envelope({
    type: EventType.sessionRevoked,
    version: 1,
    organizationId: "org_1",
    mode: "live",
    data: { sessionId: "sess_1", consumerId: "cons_1", reason: "logout" },
  });
  const created = envelope({
    type: EventType.consumerCreated,
    version: 1,
    organizationId: "org_1",
    mode: "test",
    data: { consumerId: "cons_2", kind: "guest", email: null, phone: null },
  });
  await js.publish(s.event(rotated.type), JSON.stringify(rotated));
  // keys.v1.rotated without replacedByKeyId: not the contract, skipped.
  const { replacedByKeyId: _dropped, ...drifted } = rotated.data as Record<string, unknown>;
  await js.publish(s.event(rotated.type), JSON.stringify({ ...rotated, id: "evt_drifted", data: drifted }));
  await js.publish(s.event("sessions.v1.revoked"), "not json");
  await js.publish(s.event(revoked.type), JSON.stringify(revoked));
  await js.publish(s.event(created.type), JSON.stringify(created));

  const seen: string[] = [];
  const warnings: string[] = [];
  const consoleWarn = console.warn;
  console.warn = (m: string) => void warnings.push(m);
  let release: () => void = () => {};
  const allSeen = new Promise<void>((r) => {
    release = r;
  });
  const sub = await subscribeToAuthEvents({
    servers: NATS_URL,
    durable: "example-test",
    subjectPrefix: s.prefix,
    streamSuffix: `_tex${id}`,
    onEvent(event) {
      seen.push(describeEvent(event));
      if (seen.length === 3) release();
    },
  });
  try {
    await allSeen;
  } finally {
    await sub.stop();
    console.warn = consoleWarn;
  }

  expect(seen).toEqual([
    "key key_old replaced by key_new, works until 2026-12-02T12:00:00.000Z",
    "session sess_1 of cons_1 revoked (logout)",
    `consumers.v1.created at ${created.occurredAt}`,
  ]);
  expect(warnings).toEqual([
    `skipping ${s.event("keys.v1.rotated")} #2: keys.v1.rotated v1: data.replacedByKeyId: invalid_type`,
    `skipping ${s.event("sessions.v1.revoked")} #3: not JSON`,
  ]);
  // Every message was acked or terminated: nothing is left for the durable consumer.
  const info = await jsm.consumers.info(s.eventsStream, "example-test");
  expect(info.num_pending + info.num_ack_pending).toBe(0);
});
