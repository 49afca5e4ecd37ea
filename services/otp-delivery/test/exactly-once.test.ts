import { createLogger, DEV_OTP_SEAL_KEYS, importSealPrivateKey, type PgPool } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import type { RunningService } from "../src/testing.js";
import { DevTransport } from "../src/transports/dev-transport.js";
import type { OtpMessage } from "../src/transports/transport.js";
import { deliverOtp } from "../src/usecases/deliver-otp.js";
import { startTestOtpDelivery } from "../src/testing.js";
import {
  connectTestNats,
  deliveries,
  ensureOtpStream,
  fastDelivery,
  otpJob,
  publishJob,
  type TestNats,
  testPool,
  waitFor,
} from "./support/jobs.js";

const iso = createTestIsolation();
let nats: TestNats;
let pool: PgPool;
const running: RunningService[] = [];

async function start(
  logs = captureLogs(),
  env: Record<string, string> = {},
): Promise<{ service: RunningService; logs: ReturnType<typeof captureLogs> }> {
  const service = await startTestOtpDelivery(
    { ...iso.env("otp-delivery"), ...fastDelivery(), LOG_LEVEL: "info", ...env },
    { logger: createLogger({ name: "otp-delivery", level: "info", destination: logs.stream }) },
  );
  running.push(service);
  return { service, logs };
}

/** Dev-transport messages per recipient (what a user would have received). */
async function sentCounts(): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ to: string; n: string }>(`SELECT "to", count(*) AS n FROM "dev_messages" GROUP BY "to"`);
  return new Map(rows.map((r) => [r.to, Number(r.n)]));
}

beforeAll(async () => {
  nats = await connectTestNats(iso.natsUrl);
  pool = testPool(iso);
});

afterAll(async () => {
  for (const s of running) await s.stop();
  await pool?.end();
  await nats?.close();
  await iso.cleanup();
});

test("otp-delivery down while codes are requested, then started: every message delivered exactly once", async () => {
  // The publisher (consumer-auth) declares the stream; nobody consumes yet.
  await ensureOtpStream(nats.nc, iso.subjects);
  const jobs = Array.from({ length: 25 }, (_, i) => otpJob({ to: `early-${i}@example.com` }));
  for (const job of jobs) await publishJob(nats.js, iso.subjects, job);

  await start();
  await waitFor(async () => (await sentCounts()).size === jobs.length, 20_000, 100);
  await new Promise((r) => setTimeout(r, 1_500)); // room for a wrong redelivery
  const counts = await sentCounts();
  for (const job of jobs) expect(counts.get(job.data.to)).toBe(1);
  const rows = await deliveries(pool);
  expect(rows.filter((r) => r.status === "sent")).toHaveLength(jobs.length);
  expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
});

test("the same event published twice (same and different message ids) sends one message and keeps one record", async () => {
  const job = otpJob({ to: "twice@example.com" });
  await publishJob(nats.js, iso.subjects, job);
  await publishJob(nats.js, iso.subjects, job); // de-duplicated by JetStream (same msgID)
  // Re-published outside the de-duplication window: a second stream message with the same event id.
  await publishJob(nats.js, iso.subjects, job, `${job.id}-republished-1`);
  await publishJob(nats.js, iso.subjects, job, `${job.id}-republished-2`);
  await waitFor(async () => (await sentCounts()).get("twice@example.com") === 1, 10_000);
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await sentCounts()).get("twice@example.com")).toBe(1);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: "sent", attempts: 1 });
});

test("several instances share one durable consumer: all delivered once, each instance did some", async () => {
  // Each instance takes at most 4 jobs at a time, so 40 jobs must be split (with the default
  // DELIVERY_CONCURRENCY of 64, one instance's first pull could take all 40).
  const small = { DELIVERY_CONCURRENCY: "4" };
  const second = await start(captureLogs(), small);
  const firstLogs = captureLogs();
  // Restart the first instance with a log capture of its own (graceful stop finishes its in-flight work).
  const first = running.shift();
  await first?.stop();
  const a = await start(firstLogs, small);
  const b = second;
  const jobs = Array.from({ length: 40 }, (_, i) => otpJob({ to: `shared-${i}@example.com` }));
  await Promise.all(jobs.map((job) => publishJob(nats.js, iso.subjects, job)));
  await waitFor(
    async () => {
      const counts = await sentCounts();
      return jobs.every((j) => counts.get(j.data.to) === 1);
    },
    20_000,
    100,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  const counts = await sentCounts();
  for (const job of jobs) expect(counts.get(job.data.to)).toBe(1);
  const deliveredBy = (logs: ReturnType<typeof captureLogs>) =>
    logs.lines.filter(
      (l) => l.includes('"msg":"otp delivered"') && l.includes("shared-") === false && l.includes('"to":"s***@example.com"'),
    ).length;
  const byA = deliveredBy(a.logs);
  const byB = deliveredBy(b.logs);
  expect(byA + byB).toBe(jobs.length);
  expect(byA).toBeGreaterThan(0);
  expect(byB).toBeGreaterThan(0);
});

test("two instances racing for one event: the lease lets exactly one send, the other waits", async () => {
  const service = running[0];
  if (!service) throw new Error("no running instance");
  const sent: OtpMessage[] = [];
  const slowTransport = {
    async send(m: OtpMessage) {
      sent.push(m);
      await new Promise((r) => setTimeout(r, 300));
      return { providerMessageId: `race-${sent.length}` };
    },
  };
  const deps = {
    db: service.deps.db,
    transports: { email: slowTransport, sms: slowTransport, testSink: slowTransport },
    sealKeys: [importSealPrivateKey(DEV_OTP_SEAL_KEYS.privateKey)],
    logger: service.deps.logger,
    onOutboxWrite: () => service.deps.relay.kick(),
    backoffMs: [1_000],
    maxAttempts: 4,
    leaseMs: 10_000,
  };
  const job = otpJob({ to: "race@example.com" });
  const decisions = await Promise.all([1, 2, 3].map(() => deliverOtp(deps, { envelope: job, data: job.data, deliveryCount: 1 })));
  expect(sent).toHaveLength(1);
  expect(decisions.filter((d) => d.kind === "ack")).toHaveLength(1);
  expect(decisions.filter((d) => d.kind === "retry")).toHaveLength(2);
  // Once it is sent, a late duplicate is acknowledged without sending.
  expect(await deliverOtp(deps, { envelope: job, data: job.data, deliveryCount: 2 })).toEqual({ kind: "ack" });
  expect(sent).toHaveLength(1);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toEqual([expect.objectContaining({ status: "sent", attempts: 1, provider_message_id: "race-1" })]);
});

test("a crash after the dev sink stored the message, before the delivery was recorded: the retry stores no second message (issue 12)", async () => {
  const service = running[0] ?? (await start()).service;
  const dev = new DevTransport(service.deps.db);
  // Stores the message, then fails as a process killed before recording the send would have.
  const storesThenCrashes = {
    async send(m: OtpMessage): Promise<never> {
      await dev.send(m);
      throw new Error("killed before the delivery was recorded");
    },
  };
  const deps = (transport: typeof dev | typeof storesThenCrashes) => ({
    db: service.deps.db,
    transports: { email: transport, sms: transport, testSink: transport },
    sealKeys: [importSealPrivateKey(DEV_OTP_SEAL_KEYS.privateKey)],
    logger: service.deps.logger,
    onOutboxWrite: () => service.deps.relay.kick(),
    backoffMs: [10],
    maxAttempts: 4,
    leaseMs: 10_000,
  });
  const job = otpJob({ to: "crashed-after-send@example.com" });
  expect(await deliverOtp(deps(storesThenCrashes), { envelope: job, data: job.data, deliveryCount: 1 })).toEqual({
    kind: "retry",
    delayMs: 10,
  });
  expect((await sentCounts()).get("crashed-after-send@example.com")).toBe(1);

  // The redelivered job (another instance, or this one after the lease) sends again: same delivery.
  expect(await deliverOtp(deps(dev), { envelope: job, data: job.data, deliveryCount: 2 })).toEqual({ kind: "ack" });
  expect((await sentCounts()).get("crashed-after-send@example.com")).toBe(1);
  const { rows: stored } = await pool.query<{ id: string }>(`SELECT id FROM "dev_messages" WHERE "to" = 'crashed-after-send@example.com'`);
  const rows = (await deliveries(pool)).filter((r) => r.event_id === job.id);
  expect(rows).toEqual([expect.objectContaining({ status: "sent", attempts: 2, provider_message_id: stored[0]?.id })]);
});
