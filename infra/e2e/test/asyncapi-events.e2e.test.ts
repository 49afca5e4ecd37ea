/**
 * The AsyncAPI document the gateway serves (GET /asyncapi.json, generated from the event catalog)
 * describes what the real services publish: the four built services drive an organization, key
 * and session life and an OTP delivery through the gateway, then every message on the run's
 * AUTH_EVENTS and OTP_REQUESTS streams is validated (ajv) against the document's message for its
 * channel, and every event type the flow produces must have been seen.
 */
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { connectJetStream, type NatsHandles } from "@authplane/service-kit";
import { eventually } from "@authplane/service-kit/testing";
import { createOrganization, type Stack, startStack } from "../src/stack.mjs";

const require = createRequire(import.meta.url);
const { Ajv } = require("ajv") as typeof import("ajv");
const addFormats = (require("ajv-formats") as { default: typeof import("ajv-formats").default }).default;

type Doc = {
  channels: Record<string, { address: string | null; messages: Record<string, { $ref: string }> }>;
  components: { messages: Record<string, { payload: object }> };
};

let stack: Stack;
let nats: NatsHandles;

beforeAll(async () => {
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery"],
    gateway: true,
    // No concurrent-tab grace: the second use of a refresh token is a reuse at once.
    env: { "otp-delivery": { DELIVERY_TRANSPORT: "dev" }, "consumer-auth": { REFRESH_REUSE_GRACE_SECONDS: "0" } },
  });
  nats = await connectJetStream(stack.iso.natsUrl, "asyncapi-e2e");
}, 90_000);

afterAll(async () => {
  await nats?.nc.drain();
  await stack?.stop();
}, 30_000);

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

/** Every message of a stream: its subject and parsed body. */
async function streamMessages(stream: string): Promise<Array<{ subject: string; body: { type: string } }>> {
  const info = await nats.jsm.streams.info(stream);
  const out: Array<{ subject: string; body: { type: string } }> = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await nats.jsm.streams.getMessage(stream, { seq });
    if (m) out.push({ subject: m.subject, body: m.json() });
  }
  return out;
}

test("real events of the services validate against the AsyncAPI document the gateway serves", async () => {
  const res = await fetch(`${stack.gatewayUrl}/asyncapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as Doc;

  // Organization and keys: organizations.v1.created, keys.v1.created, settings_updated, rotated, revoked.
  const org = await createOrganization(stack.gatewayUrl, stack.operatorToken, "AsyncAPI E2E");
  const sk = { authorization: `Bearer ${org.keys.secret.live}` };
  expect((await call("PATCH", "/api/v1/organizations/current/settings", sk, { accessTokenTtlSeconds: 600 })).status).toBe(200);
  const keys = await call("GET", "/api/v1/keys", sk);
  const publishable = (keys.json.keys as Array<{ id: string; kind: string }>).find((k) => k.kind === "publishable");
  const rotated = await call("POST", `/api/v1/keys/${publishable?.id}/rotate`, sk, { expiresInSeconds: 3600 });
  expect(rotated.status).toBe(201);
  expect((await call("POST", `/api/v1/keys/${publishable?.id}/revoke`, sk)).status).toBe(200);
  const pk = { "x-publishable-key": rotated.json.value as string };

  // Sessions: consumers.v1.created, sessions.v1.created / refreshed, refresh-token reuse, revoked.
  const guest = await call("POST", "/api/v1/auth/guest", pk);
  expect(guest.status).toBe(200);
  const refreshed = await call("POST", "/api/v1/auth/refresh", pk, { refreshToken: guest.json.refreshToken });
  expect(refreshed.status).toBe(200);
  expect((await call("POST", "/api/v1/auth/refresh", pk, { refreshToken: guest.json.refreshToken })).status).toBe(401);
  const second = await call("POST", "/api/v1/auth/guest", pk);
  expect((await call("POST", "/api/v1/auth/logout", { authorization: `Bearer ${second.json.accessToken}` })).status).toBe(204);

  // OTP: otp.v1.requested (OTP_REQUESTS), then otp.v1.delivered from otp-delivery.
  const email = `asyncapi-${randomBytes(4).toString("hex")}@example.com`;
  expect((await call("POST", "/api/v1/auth/otp/request", pk, { email })).status).toBe(200);

  const expected = [
    "organizations.v1.created",
    "organizations.v1.settings_updated",
    "keys.v1.created",
    "keys.v1.rotated",
    "keys.v1.revoked",
    "consumers.v1.created",
    "sessions.v1.created",
    "sessions.v1.refreshed",
    "sessions.v1.refresh_token_reuse_detected",
    "sessions.v1.revoked",
    "otp.v1.delivered",
  ];
  const events = await eventually(
    async () => {
      const got = await streamMessages(stack.iso.subjects.eventsStream);
      const types = new Set(got.map((m) => m.body.type));
      const missing = expected.filter((t) => !types.has(t));
      if (missing.length) throw new Error(`not yet published: ${missing.join(", ")}`);
      return got;
    },
    20_000,
    200,
  );
  const jobs = await streamMessages(stack.iso.subjects.otpStream);
  expect(jobs.map((m) => m.body.type)).toEqual(["otp.v1.requested"]);

  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const [id, message] of Object.entries(doc.components.messages)) ajv.addSchema(message.payload, id);
  const prefix = stack.iso.natsSubjectPrefix;
  const failures: unknown[] = [];
  for (const m of [...events, ...jobs]) {
    // The document names production subjects; this run's are prefixed for isolation.
    expect(m.subject.startsWith(prefix)).toBe(true);
    const address = m.subject.slice(prefix.length);
    const channel = Object.values(doc.channels).find((c) => c.address === address);
    if (!channel) {
      failures.push({ subject: address, error: "no channel in the document" });
      continue;
    }
    const ids = Object.values(channel.messages).map((r) => r.$ref.split("/").pop() ?? "");
    const verdicts = ids.map((id) => {
      const validate = ajv.getSchema(id);
      return validate?.(m.body) ? null : { id, errors: validate?.errors };
    });
    // Valid against one of the channel's messages (one per envelope version).
    if (verdicts.every((v) => v !== null)) failures.push({ subject: address, verdicts });
  }
  expect(failures).toEqual([]);
  expect(events.length).toBeGreaterThanOrEqual(expected.length);
}, 90_000);
