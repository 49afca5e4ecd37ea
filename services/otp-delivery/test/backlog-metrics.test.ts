import type { PgPool } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { connectTestNats, fastDelivery, otpJob, publishJob, type TestNats, testPool, waitFor } from "./support/jobs.js";

// The delivery backlog an operator watches: jobs waiting in JetStream and outcome events waiting
// in the outbox, on /metrics (issue 13 item 2).
const iso = createTestIsolation();
let nats: TestNats;
let pool: PgPool;
let service: RunningService;

beforeAll(async () => {
  nats = await connectTestNats(iso.natsUrl);
  pool = testPool(iso);
  service = await startTestOtpDelivery({ ...iso.env("otp-delivery"), ...fastDelivery() });
});

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await iso.cleanup();
});

/** Value of one sample of `name` on the service's Prometheus registry (NaN when absent). */
async function gauge(name: string): Promise<number> {
  const text = await service.deps.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : Number.NaN;
}

async function delivered(to: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dev_messages WHERE "to" = ANY($1)`, [to]);
  return rows[0]?.n ?? 0;
}

test("jobs nobody has pulled yet and outcome events not yet relayed show on /metrics, and go back to 0", async () => {
  // No instance pulling and no relay running: what a stalled or overwhelmed deployment looks like.
  await service.consumer.stop();
  await service.deps.relay.stop();
  const jobs = Array.from({ length: 5 }, (_, i) => otpJob({ to: `backlog-${i}@example.com` }));
  for (const job of jobs) await publishJob(nats.js, iso.subjects, job);

  await waitFor(async () => (await gauge("jetstream_consumer_pending")) === 5);
  const text = await service.deps.metrics.registry.metrics();
  expect(text).toMatch(
    new RegExp(`jetstream_consumer_pending\\{[^}]*stream="${iso.subjects.otpStream}"[^}]*consumer="otp-delivery"[^}]*\\} 5`),
  );
  expect(await gauge("outbox_backlog")).toBe(0);

  // Delivery resumes: the jobs leave the stream's backlog, their events wait in the outbox.
  await service.consumer.start();
  const to = jobs.map((j) => j.data.to);
  await waitFor(async () => (await delivered(to)) === 5, 15_000);
  await waitFor(async () => (await gauge("jetstream_consumer_pending")) === 0);
  await waitFor(async () => (await gauge("jetstream_consumer_ack_pending")) === 0);
  expect(await gauge("outbox_backlog")).toBe(5);

  // The relay catches up.
  service.deps.relay.start();
  await waitFor(async () => (await gauge("outbox_backlog")) === 0, 10_000);
});
