import { ConfigError, createLogger, generateSealKeyPair, parseEnv, type PgPool } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import { createApp } from "../src/app.js";
import { Env } from "../src/env.js";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { connectTestNats, deliveries, fastDelivery, otpJob, publishJob, type TestNats, testPool, waitFor } from "./support/jobs.js";
import { fetchChecked } from "./support/harness.js";

interface OutboxMessage {
  id: string;
  channel: string;
  to: string;
  subject: string | null;
  text: string;
  code: string;
  createdAt: string;
}

const iso = createTestIsolation();
let nats: TestNats;
let service: RunningService;
let pool: PgPool;
const logs = captureLogs();
const codes: string[] = [];

async function outbox(query: string): Promise<{ status: number; body: { messages?: OutboxMessage[]; error?: string } }> {
  const res = await fetchChecked(`${service.url}/dev/outbox${query}`);
  return { status: res.status, body: (await res.json()) as { messages?: OutboxMessage[]; error?: string } };
}

beforeAll(async () => {
  nats = await connectTestNats(iso.natsUrl);
  // NODE_ENV=test and no DELIVERY_TRANSPORT: the dev transport is the default.
  service = await startTestOtpDelivery(
    { ...iso.env("otp-delivery"), ...fastDelivery(), LOG_LEVEL: "debug" },
    { logger: createLogger({ name: "otp-delivery", level: "debug", destination: logs.stream }) },
  );
  pool = testPool(iso);
});

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await iso.cleanup();
});

test("email messages are listed newest first, filtered by recipient, the query lower-cased", async () => {
  expect(service.deps.env.DELIVERY_TRANSPORT).toBe("dev");
  const first = otpJob({ to: "kim@example.com", organizationName: "Acme" });
  const second = otpJob({ to: "kim@example.com", organizationName: "Acme" });
  const other = otpJob({ to: "lee@example.com" });
  codes.push(first.code, second.code, other.code);
  await publishJob(nats.js, iso.subjects, first);
  await waitFor(async () => (await outbox("?to=kim@example.com")).body.messages?.length === 1, 10_000);
  await publishJob(nats.js, iso.subjects, second);
  await publishJob(nats.js, iso.subjects, other);

  const { status, body } = await waitFor(async () => {
    const r = await outbox("?to=KIM@Example.COM");
    return r.body.messages?.length === 2 ? r : null;
  }, 10_000);
  expect(status).toBe(200);
  const [newest, oldest] = body.messages ?? [];
  expect(newest).toMatchObject({ channel: "email", to: "kim@example.com", code: second.code, subject: "Your Acme verification code" });
  expect(oldest).toMatchObject({ code: first.code });
  expect(newest?.id).toMatch(/^msg_/);
  expect(newest?.text).toContain(second.code);
  expect(newest?.text).toContain("10 minutes");
  expect(Date.parse(newest?.createdAt ?? "")).toBeGreaterThanOrEqual(Date.parse(oldest?.createdAt ?? ""));
  expect(body.messages?.some((m) => m.to === "lee@example.com")).toBe(false);
});

test("SMS messages are found by E.164 number, with `+` encoded as %2B or sent raw (a space)", async () => {
  const job = otpJob({ channel: "sms", to: "+447700900123", country: "GB" });
  codes.push(job.code);
  await publishJob(nats.js, iso.subjects, job);
  const encoded = await waitFor(async () => {
    const r = await outbox("?to=%2B447700900123");
    return r.body.messages?.length ? r : null;
  }, 10_000);
  expect(encoded.body.messages).toEqual([expect.objectContaining({ channel: "sms", to: "+447700900123", code: job.code, subject: null })]);
  // A raw `+` decodes to a space in a query string.
  const raw = await outbox("?to=+447700900123");
  expect(raw.status).toBe(200);
  expect(raw.body.messages?.map((m) => m.code)).toEqual([job.code]);
  const spaced = await outbox("?to=%20447700900123");
  expect(spaced.body.messages?.map((m) => m.code)).toEqual([job.code]);
  expect((await outbox("?to=%2B15550000000")).body.messages).toEqual([]);
});

test("a bad recipient is a 400 in the consumer API's error format", async () => {
  const r = await outbox("?to=not-a-number");
  expect(r.status).toBe(400);
  expect(r.body).toMatchObject({ error: "invalid_recipient" });
  const r2 = await outbox("?to=a&to=b");
  expect(r2.status).toBe(400);
});

test("the route does not exist in production (nor with the live transport); production refuses the dev transport", async () => {
  // Production secrets of this service: its own OTP sealing key, NATS credentials, the operator token.
  const secrets = {
    OTP_SEAL_PRIVATE_KEY: generateSealKeyPair().privateKey,
    NATS_USER: "otp-delivery",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
    OPERATOR_TOKEN: "a-long-random-operator-token-0123456789",
  };
  const prodEnv = parseEnv(Env, {
    NODE_ENV: "production",
    SMS_ACCOUNT_SID: "AC1",
    SMS_AUTH_TOKEN: "t",
    SMS_FROM: "+15005550006",
    ...secrets,
  });
  expect(prodEnv.DELIVERY_TRANSPORT).toBe("live");
  expect(() =>
    parseEnv(Env, {
      NODE_ENV: "production",
      DELIVERY_TRANSPORT: "dev",
      SMS_ACCOUNT_SID: "AC1",
      SMS_AUTH_TOKEN: "t",
      SMS_FROM: "+1",
      ...secrets,
    }),
  ).toThrow(/DELIVERY_TRANSPORT/);
  // The development sealing key (public in this repository) is refused in production.
  expect(() => parseEnv(Env, { NODE_ENV: "production", ...secrets, OTP_SEAL_PRIVATE_KEY: "" })).toThrow(ConfigError);
  expect(() => parseEnv(Env, { NODE_ENV: "production", NATS_USER: "otp-delivery", NATS_PASSWORD: secrets.NATS_PASSWORD })).toThrow(
    /OTP_SEAL_PRIVATE_KEY: the development key is refused in production/,
  );
  for (const env of [
    { ...service.deps.env, NODE_ENV: "production" as const, DELIVERY_TRANSPORT: "live" as const },
    { ...service.deps.env, DELIVERY_TRANSPORT: "live" as const },
  ]) {
    const app = createApp({ ...service.deps, env });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as { port: number }).port;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/dev/outbox?to=kim@example.com`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("kim@example.com");
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }
});

test("codes appear in no log line and in no delivery record (only in the dev outbox)", async () => {
  const rows = await waitFor(async () => {
    const r = await deliveries(pool);
    return r.length === codes.length && r.every((x) => x.status === "sent") ? r : null;
  }, 10_000);
  const dump = JSON.stringify(rows);
  expect(logs.lines.length).toBeGreaterThan(0);
  const text = logs.text();
  for (const code of codes) {
    expect(dump).not.toContain(code);
    expect(text).not.toContain(code);
  }
  expect(dump).not.toContain("kim@example.com");
  expect(rows.map((r) => r.destination).sort()).toEqual(["+4477******23", "k***@example.com", "k***@example.com", "l***@example.com"]);
  expect((await fetchChecked(`${service.url}/readyz`)).status).toBe(200);
});
