/**
 * The key cache as a subscriber of the event catalog (real NATS): keys.v1.revoked and
 * organizations.v1.settings_updated are parsed with their schemas, then dispatched; a message that
 * does not parse drops the whole cache and is logged without its content, and the subscriber keeps
 * working. The keys.v1.verify reply is parsed with the lookup catalog on the requesting side.
 */
import { Writable } from "node:stream";
import { EventType } from "@authplane/contracts";
import type { Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { DependencyUnavailableError } from "../src/errors.js";
import { KeyVerifier } from "../src/key-verifier.js";
import { connectJetStream, type NatsHandles, newEvent } from "../src/nats.js";
import { createTestIsolation } from "../src/testing/index.js";

const iso = createTestIsolation();
let nats: NatsHandles;
let responder: Subscription;
let verifier: KeyVerifier;
const asked: string[] = [];
const logLines: string[] = [];
/** What the stand-in for admin-key's responder answers next (null: a valid key of org_1). */
let nextReply: unknown = null;

const KEY_A = "pk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_B = "pk_live_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const keyIdOf = (key: string) => `key_${key.slice(-4)}`;

beforeAll(async () => {
  nats = await connectJetStream(iso.natsUrl, "kit-key-verifier-events-test");
  responder = nats.nc.subscribe(iso.subjects.keysVerify, {
    callback: (_err, msg) => {
      const { key } = msg.json<{ key: string }>();
      asked.push(key);
      const valid = {
        valid: true,
        keyId: keyIdOf(key),
        organizationId: "org_1",
        organizationName: "Org",
        mode: "live",
        kind: "publishable",
        expiresAt: null,
        settings: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 86_400, webauthn: null },
      };
      msg.respond(JSON.stringify(nextReply ?? valid));
    },
  });
  const logger = pino(
    { level: "warn" },
    new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    }),
  );
  verifier = new KeyVerifier({ nc: nats.nc, subjects: iso.subjects, logger });
  verifier.start();
  await verifier.ready();
});

afterAll(async () => {
  verifier.stop();
  responder.unsubscribe();
  await nats.nc.close();
  await iso.cleanup();
});

beforeEach(() => {
  asked.length = 0;
  logLines.length = 0;
  nextReply = null;
});

/** Publishes on the verifier's own connection: after the flush its callback has run. */
async function publish(type: string, body: unknown): Promise<void> {
  nats.nc.publish(iso.subjects.event(type), typeof body === "string" ? body : JSON.stringify(body));
  await nats.nc.flush();
}

async function warmBoth(): Promise<void> {
  await verifier.verify(KEY_A);
  await verifier.verify(KEY_B);
  asked.length = 0;
  await verifier.verify(KEY_A);
  await verifier.verify(KEY_B);
  expect(asked).toEqual([]); // both cached
}

test("a valid keys.v1.revoked drops that key only", async () => {
  await warmBoth();
  const revoked = newEvent(
    EventType.keyRevoked,
    { organizationId: "org_1", mode: "live" },
    { keyId: keyIdOf(KEY_A), organizationId: "org_1", kind: "publishable", mode: "live", expiresAt: null },
  );
  await publish(EventType.keyRevoked, revoked);
  await verifier.verify(KEY_A);
  await verifier.verify(KEY_B);
  expect(asked).toEqual([KEY_A]);
  expect(logLines).toEqual([]);
});

test("a valid organizations.v1.settings_updated drops the organization's keys", async () => {
  await warmBoth();
  const settings = { accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 86_400, webauthn: null };
  const updated = newEvent(
    EventType.organizationSettingsUpdated,
    { organizationId: "org_1", mode: "live" },
    { organizationId: "org_1", name: "Org", mode: "live", fields: ["accessTokenTtlSeconds"], settings },
  );
  await publish(EventType.organizationSettingsUpdated, updated);
  await verifier.verify(KEY_A);
  await verifier.verify(KEY_B);
  expect(asked).toEqual([KEY_A, KEY_B]);
});

test("a message that breaks the contract drops the whole cache, is logged without its content, and the subscriber goes on", async () => {
  await warmBoth();
  const secret = "sk_live_this_must_never_be_logged";
  // keys.v1.revoked without kind, mode and expiresAt, carrying something secret.
  await publish(EventType.keyRevoked, {
    ...newEvent(
      EventType.keyRevoked,
      { organizationId: "org_1", mode: "live" },
      {
        keyId: keyIdOf(KEY_B),
        organizationId: "org_1",
        kind: "publishable",
        mode: "live",
        expiresAt: null,
      },
    ),
    data: { keyId: keyIdOf(KEY_B), note: secret },
  });
  await publish(EventType.keyRotated, `not json ${secret}`);
  await verifier.verify(KEY_A);
  await verifier.verify(KEY_B);
  expect(asked).toEqual([KEY_A, KEY_B]); // everything dropped: the bad message may have been about any key
  expect(logLines.join("")).not.toContain(secret);
  const logged = logLines.map((l) => JSON.parse(l) as { msg: string; reason: string; subject: string });
  expect(logged.map((l) => [l.msg, l.subject, l.reason])).toEqual([
    [
      "invalid event: key cache dropped",
      iso.subjects.event(EventType.keyRevoked),
      "keys.v1.revoked v1: data.organizationId: invalid_type; data.kind: invalid_value; data.mode: invalid_value; data.expiresAt: invalid_type",
    ],
    ["invalid event: key cache dropped", iso.subjects.event(EventType.keyRotated), "not JSON"],
  ]);
});

test("a keys.v1.verify reply that matches no shape is a fast 503, logged without the key", async () => {
  nextReply = { valid: "yes", keyId: 42 };
  const key = "pk_live_cccccccccccccccccccccccccccccccc";
  const err = await verifier.verify(key).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DependencyUnavailableError);
  expect((err as DependencyUnavailableError).status).toBe(503);
  expect(logLines.join("")).not.toContain(key);
  expect(logLines.join("")).toContain("invalid_reply");
});
