import type { AddressInfo } from "node:net";
import { EventType } from "@authplane/contracts";
import { createLogger, generateSealKeyPair, type PgPool, parseEnv } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import { SMTPServer } from "smtp-server";
import { Env } from "../src/env.js";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import {
  collectEvents,
  connectTestNats,
  deliveries,
  fastDelivery,
  otpJob,
  publishJob,
  type TestNats,
  testPool,
  waitFor,
} from "./support/jobs.js";

// A relay that does not offer STARTTLS, as one stripped by a man in the middle looks to the client.
const iso = createTestIsolation();
const received: string[] = [];
const mailFrom: string[] = [];
let smtp: SMTPServer;
let nats: TestNats;
let service: RunningService;
let pool: PgPool;
const logs = captureLogs();

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onMailFrom(address, _session, cb) {
      mailFrom.push(address.address);
      cb();
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  nats = await connectTestNats(iso.natsUrl);
  service = await startTestOtpDelivery(
    {
      ...iso.env("otp-delivery"),
      ...fastDelivery(),
      DELIVERY_TRANSPORT: "live",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String((smtp.server.address() as AddressInfo).port),
      SMTP_SECURE: "false",
      SMTP_REQUIRE_TLS: "true",
    },
    { logger: createLogger({ name: "otp-delivery", level: "debug", destination: logs.stream }) },
  );
  pool = testPool(iso);
});

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await iso.cleanup();
});

test("SMTP_REQUIRE_TLS: a relay without STARTTLS gets no message in clear; the job is retried, then failed with otp.v1.delivery_failed", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const job = otpJob({ to: "downgraded@example.com" });
  await publishJob(nats.js, iso.subjects, job);

  const failed = await waitFor(
    () => events.events.find((e) => e.type === EventType.otpDeliveryFailed && e.data.requestId === job.data.requestId),
    20_000,
  );
  // Transient (the relay is at fault, not the recipient): every attempt was made, none sent anything.
  expect(failed.data).toMatchObject({ channel: "email", to: "d***@example.com", attempts: 4 });
  expect(String(failed.data.error)).toMatch(/ETLS/);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toEqual([expect.objectContaining({ status: "failed", attempts: 4, provider_message_id: null })]);
  expect(rows[0]?.last_error).toMatch(/ETLS/);
  // The client stopped before the envelope: no MAIL FROM, no DATA, so no code crossed the wire.
  expect(mailFrom).toEqual([]);
  expect(received).toEqual([]);
  expect(logs.text()).not.toContain(job.code);
  events.stop();
});

test("SMTP_REQUIRE_TLS defaults: on in production unless the relay is loopback/localhost, off elsewhere, explicit value wins", () => {
  const prod = {
    NODE_ENV: "production",
    OTP_SEAL_PRIVATE_KEY: generateSealKeyPair().privateKey,
    NATS_USER: "otp-delivery",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
    OPERATOR_TOKEN: "a-long-random-operator-token-0123456789",
  };
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "smtp.example.com" }).SMTP_REQUIRE_TLS).toBe(true);
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "10.0.0.5" }).SMTP_REQUIRE_TLS).toBe(true);
  // Names that only look local are not: a lookalike domain and a public IPv6 address.
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "localhost.evil.example" }).SMTP_REQUIRE_TLS).toBe(true);
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "2001:db8::1" }).SMTP_REQUIRE_TLS).toBe(true);
  for (const local of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "mail.localhost"])
    expect(parseEnv(Env, { ...prod, SMTP_HOST: local }).SMTP_REQUIRE_TLS).toBe(false);
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "smtp.example.com", SMTP_REQUIRE_TLS: "false" }).SMTP_REQUIRE_TLS).toBe(false);
  expect(parseEnv(Env, { ...prod, SMTP_HOST: "localhost", SMTP_REQUIRE_TLS: "true" }).SMTP_REQUIRE_TLS).toBe(true);
  expect(parseEnv(Env, { NODE_ENV: "development", SMTP_HOST: "smtp.example.com" }).SMTP_REQUIRE_TLS).toBe(false);
});
