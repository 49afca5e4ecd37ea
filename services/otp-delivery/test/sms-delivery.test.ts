import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventType } from "@authplane/contracts";
import { createLogger, type PgPool } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
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

/** A provider call as the fake Twilio-compatible API saw it. */
interface ProviderCall {
  method: string;
  path: string;
  authorization: string;
  contentType: string;
  form: URLSearchParams;
}

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "provider-auth-token-xyz";
const iso = createTestIsolation();
const calls: ProviderCall[] = [];
/** Scripted answers per destination number: status codes, consumed in order (then 201). */
const script = new Map<string, number[]>();
/** Destinations the provider answers slowly (ms). */
const slow = new Map<string, number>();
let provider: Server;
let nats: TestNats;
let service: RunningService;
let serviceVars: Record<string, string> = {};
let pool: PgPool;
const logs = captureLogs();

beforeAll(async () => {
  let n = 0;
  provider = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      calls.push({
        method: req.method ?? "",
        path: req.url ?? "",
        authorization: req.headers.authorization ?? "",
        contentType: req.headers["content-type"] ?? "",
        form,
      });
      const status = script.get(form.get("To") ?? "")?.shift() ?? 201;
      const delay = slow.get(form.get("To") ?? "") ?? 0;
      setTimeout(() => answer(status, form), delay);
    });
    const answer = (status: number, form: URLSearchParams) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      if (status === 201) {
        n += 1;
        res.end(JSON.stringify({ sid: `SM${String(n).padStart(32, "0")}`, status: "queued", to: form.get("To") }));
      } else
        res.end(
          JSON.stringify({ code: status === 400 ? 21211 : 20500, message: `The 'To' number ${form.get("To")} is not valid.`, status }),
        );
    };
  });
  await new Promise<void>((resolve) => provider.listen(0, "127.0.0.1", () => resolve()));
  const port = (provider.address() as AddressInfo).port;
  nats = await connectTestNats(iso.natsUrl);
  serviceVars = {
    ...iso.env("otp-delivery"),
    ...fastDelivery(),
    LOG_LEVEL: "debug",
    DELIVERY_TRANSPORT: "live",
    SMS_BASE_URL: `http://127.0.0.1:${port}`,
    SMS_ACCOUNT_SID: SID,
    SMS_AUTH_TOKEN: TOKEN,
    SMS_FROM: "+15005550006",
  };
  service = await startTestOtpDelivery(serviceVars, {
    logger: createLogger({ name: "otp-delivery", level: "debug", destination: logs.stream }),
  });
  pool = testPool(iso);
});

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await new Promise<void>((resolve) => provider.close(() => resolve()));
  await iso.cleanup();
});

const callsTo = (to: string) => calls.filter((c) => c.form.get("To") === to);

test("an SMS job calls the provider's Messages API (path, Basic auth, form) and stores its message sid", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const job = otpJob({ channel: "sms", to: "+12025550134", country: "US", organizationName: "Acme", ttlSeconds: 300 });
  await publishJob(nats.js, iso.subjects, job);

  const row = await waitFor(async () => (await deliveries(pool)).find((r) => r.event_id === job.id && r.status === "sent"), 10_000);
  const [call] = callsTo("+12025550134");
  expect(callsTo("+12025550134")).toHaveLength(1);
  expect(call?.method).toBe("POST");
  expect(call?.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
  expect(call?.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
  expect(call?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  expect(call?.form.get("From")).toBe("+15005550006");
  const body = call?.form.get("Body") ?? "";
  expect(body).toContain(job.code);
  expect(body).toContain("Acme");
  expect(body).toContain("5 minutes");

  expect(row).toMatchObject({ channel: "sms", destination: "+1202*****34", attempts: 1, last_error: null });
  expect(row.provider_message_id).toMatch(/^SM0+\d+$/);
  const delivered = await waitFor(() =>
    events.events.find((e) => e.type === EventType.otpDelivered && e.data.requestId === job.data.requestId),
  );
  expect(delivered.data).toMatchObject({ channel: "sms", providerMessageId: row.provider_message_id, to: "+1202*****34" });
  events.stop();
});

test("test-mode jobs never reach the provider with the live transport: SMS and email land in the test sink", async () => {
  const sms = otpJob({ channel: "sms", to: "+12025550188", country: "US" }, undefined, "test");
  const email = otpJob({ channel: "email", to: "sink-user@example.com" }, undefined, "test");
  await publishJob(nats.js, iso.subjects, sms);
  await publishJob(nats.js, iso.subjects, email);
  const rows = await waitFor(async () => {
    const sent = (await deliveries(pool)).filter((r) => (r.event_id === sms.id || r.event_id === email.id) && r.status === "sent");
    return sent.length === 2 ? sent : null;
  }, 10_000);
  expect(rows.map((r) => r.mode)).toEqual(["test", "test"]);
  for (const r of rows) expect(r.provider_message_id).toMatch(/^msg_/);
  // Nothing reached the SMS provider (and the SMTP relay is not even configured here).
  expect(callsTo("+12025550188")).toHaveLength(0);
  const { rows: sink } = await pool.query<{ to: string; code: string; channel: string }>(
    `SELECT "to", code, channel FROM dev_messages WHERE "to" IN ($1, $2) ORDER BY channel`,
    ["+12025550188", "sink-user@example.com"],
  );
  expect(sink).toEqual([
    { to: "sink-user@example.com", code: email.code, channel: "email" },
    { to: "+12025550188", code: sms.code, channel: "sms" },
  ]);
});

test("a provider 500 is retried with backoff and the SMS goes out exactly once", async () => {
  const to = "+12025550177";
  script.set(to, [500]);
  const job = otpJob({ channel: "sms", to });
  await publishJob(nats.js, iso.subjects, job);

  const row = await waitFor(async () => (await deliveries(pool)).find((r) => r.event_id === job.id && r.status === "sent"), 10_000);
  expect(row.attempts).toBe(2);
  expect(row.last_error).toBeNull();
  // Give a wrong redelivery time to happen before counting.
  await new Promise((r) => setTimeout(r, 1_500));
  const c = callsTo(to);
  expect(c.map((x) => x.form.get("Body"))).toHaveLength(2);
  expect((await deliveries(pool)).filter((r) => r.event_id === job.id)).toHaveLength(1);
});

test("a provider 400 fails the job at once: failed record (no code, no number) and otp.v1.delivery_failed", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const to = "+12025550188";
  script.set(to, [400]);
  const job = otpJob({ channel: "sms", to });
  await publishJob(nats.js, iso.subjects, job);

  const failed = await waitFor(
    () => events.events.find((e) => e.type === EventType.otpDeliveryFailed && e.data.requestId === job.data.requestId),
    10_000,
  );
  expect(failed.organizationId).toBe(job.organizationId);
  expect(failed.data).toMatchObject({ channel: "sms", to: "+1202*****88", attempts: 1, providerMessageId: null });
  expect(failed.data.error).toBe("sms provider answered 400 (code 21211)");
  await new Promise((r) => setTimeout(r, 1_500));
  expect(callsTo(to)).toHaveLength(1);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: "failed", attempts: 1, last_error: "sms provider answered 400 (code 21211)" });
  events.stop();
});

test("a provider that keeps failing: the job is given up after DELIVERY_MAX_ATTEMPTS", async () => {
  const events = collectEvents(nats.nc, iso.subjects);
  const to = "+12025550199";
  script.set(to, [503, 503, 503, 503, 503, 503]);
  const job = otpJob({ channel: "sms", to });
  await publishJob(nats.js, iso.subjects, job);
  const failed = await waitFor(
    () => events.events.find((e) => e.type === EventType.otpDeliveryFailed && e.data.requestId === job.data.requestId),
    15_000,
  );
  expect(failed.data).toMatchObject({ attempts: 4, error: "sms provider answered 503 (code 20500)" });
  expect(callsTo(to)).toHaveLength(4);
  events.stop();
});

test("a message that does not match the contract is discarded without logging its content", async () => {
  const secret = "424242";
  await nats.js.publish(iso.subjects.otpRequested, JSON.stringify({ id: "evt_bad", type: "otp.v1.requested", code: secret }), {
    msgID: "bad-1",
  });
  await waitFor(() => logs.lines.some((l) => l.includes("does not match the contract")), 5_000);
  expect(logs.text()).not.toContain(secret);
  expect((await deliveries(pool)).some((r) => r.event_id === "evt_bad")).toBe(false);
});

test("graceful shutdown stops pulling but finishes the message in hand: sent once, never again after restart", async () => {
  const to = "+12025550111";
  slow.set(to, 1_500);
  const events = collectEvents(nats.nc, iso.subjects);
  const job = otpJob({ channel: "sms", to });
  await publishJob(nats.js, iso.subjects, job);
  await waitFor(() => callsTo(to).length === 1, 10_000, 20);
  await service.stop(); // while the provider is still answering
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: "sent", attempts: 1 });
  // Its event was relayed before the relay stopped.
  await waitFor(() => events.events.some((e) => e.type === EventType.otpDelivered && e.data.requestId === job.data.requestId), 3_000);
  events.stop();

  service = await startTestOtpDelivery(serviceVars, {
    logger: createLogger({ name: "otp-delivery", level: "debug", destination: logs.stream }),
  });
  const after = otpJob({ channel: "sms", to: "+12025550112" });
  await publishJob(nats.js, iso.subjects, after);
  await waitFor(() => callsTo("+12025550112").length === 1, 10_000);
  await new Promise((r) => setTimeout(r, 1_500));
  expect(callsTo(to)).toHaveLength(1);
});

test("no code or provider token ever reached a log line", async () => {
  const codes = calls.map((c) => /^(\d{6})/.exec(c.form.get("Body") ?? "")?.[1]).filter((x): x is string => Boolean(x));
  expect(codes.length).toBeGreaterThan(3);
  const text = logs.text();
  for (const code of codes) expect(text).not.toContain(code);
  expect(text).not.toContain(TOKEN);
  const rows = JSON.stringify(await deliveries(pool));
  for (const code of codes) expect(rows).not.toContain(code);
});
