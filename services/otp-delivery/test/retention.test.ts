import { createPgPool, type PgPool, parseEnv } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { Env } from "../src/env.js";
import { createOtpDeliveryPruner } from "../src/retention.js";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { testPool } from "./support/jobs.js";
import { fetchChecked } from "./support/harness.js";

/**
 * Issue 10 item 9: every OTP request adds a delivery record (and, in development, a dev-outbox
 * message); rows past their retention are deleted in bounded batches, rows inside it stay.
 */
const iso = createTestIsolation();
let service: RunningService;
let pool: PgPool;

beforeAll(async () => {
  service = await startTestOtpDelivery({
    ...iso.env("otp-delivery"),
    DELIVERY_TRANSPORT: "dev",
    RETENTION_INTERVAL_SECONDS: "0",
    DEV_OUTBOX_MAX_MESSAGES: "5",
  });
  pool = testPool(iso);
});

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await iso.cleanup();
});

async function insertDelivery(id: string, status: string, daysAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO deliveries (id, event_id, request_id, channel, destination, status, created_at, updated_at)
     VALUES ($1, $2, $3, 'email', 'j***@example.com', $4, now() - $5 * interval '1 day', now() - $5 * interval '1 day')`,
    [id, `evt_${id}`, `otp_${id}`, status, daysAgo],
  );
}

async function insertMessage(id: string, minutesAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO dev_messages (id, channel, "to", text, code, created_at)
     VALUES ($1, 'email', 'dev@example.com', 'code', '123456', now() - $2 * interval '1 minute')`,
    [id, minutesAgo],
  );
}

async function ids(table: "deliveries" | "dev_messages"): Promise<string[]> {
  return (await pool.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id);
}

test("delivery records and dev-outbox messages past retention are deleted in bounded batches; the rest stays", async () => {
  // Past the 30-day retention: 5 sent, 1 failed, 1 pending whose job is long gone.
  for (let i = 0; i < 5; i++) await insertDelivery(`dlv_old_sent_${i}`, "sent", 31);
  await insertDelivery("dlv_old_failed", "failed", 31);
  await insertDelivery("dlv_old_pending", "pending", 31);
  // Inside it.
  await insertDelivery("dlv_new_sent", "sent", 29);
  await insertDelivery("dlv_new_pending", "pending", 0);
  // Dev outbox: 2 older than 60 minutes; 6 recent ones, one more than DEV_OUTBOX_MAX_MESSAGES (5).
  await insertMessage("msg_old_1", 61);
  await insertMessage("msg_old_2", 90);
  for (let i = 0; i < 6; i++) await insertMessage(`msg_new_${i}`, 10 - i); // msg_new_5 is the newest

  // Batches of 2, at most 2 per round: one round deletes at most 4 deliveries.
  const pruner = createOtpDeliveryPruner({
    ...service.deps,
    env: { ...service.deps.env, RETENTION_BATCH_SIZE: 2, RETENTION_MAX_BATCHES: 2, RETENTION_BATCH_PAUSE_MS: 0 },
  });
  const first = await pruner.runOnce();
  expect(first.deliveries).toBe(4);
  const second = await pruner.runOnce();
  expect(second.deliveries).toBe(3);
  expect(await ids("deliveries")).toEqual(["dlv_new_pending", "dlv_new_sent"]);

  expect((first.dev_messages ?? 0) + (second.dev_messages ?? 0)).toBe(2);
  expect((first.dev_messages_over_limit ?? 0) + (second.dev_messages_over_limit ?? 0)).toBe(1);
  expect(await ids("dev_messages")).toEqual(["msg_new_1", "msg_new_2", "msg_new_3", "msg_new_4", "msg_new_5"]);
  const outbox = (await (await fetchChecked(`${service.url}/dev/outbox?to=dev@example.com`)).json()) as { messages: Array<{ id: string }> };
  expect(outbox.messages.map((m) => m.id)).toEqual(["msg_new_5", "msg_new_4", "msg_new_3", "msg_new_2", "msg_new_1"]);

  // Nothing left to do: the next round deletes nothing.
  expect(await pruner.runOnce()).toEqual({ deliveries: 0, dev_messages: 0, dev_messages_over_limit: 0 });
  const metric = await service.deps.metrics.registry.getSingleMetricAsString("retention_pruned_rows_total");
  expect(metric).toMatch(/retention_pruned_rows_total\{table="deliveries"[^}]*\} 7/);
});

test("two instances pruning at once: neither fails and every row past retention goes", async () => {
  for (let i = 0; i < 30; i++) await insertDelivery(`dlv_both_${String(i).padStart(2, "0")}`, "sent", 40);
  const other = createPgPool(iso.databaseUrl, iso.schema("otp-delivery"), 2);
  try {
    const env = { ...service.deps.env, RETENTION_BATCH_SIZE: 3, RETENTION_BATCH_PAUSE_MS: 0 };
    const a = createOtpDeliveryPruner({ ...service.deps, env });
    const b = createOtpDeliveryPruner({ ...service.deps, env, pool: other });
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    const rest = await a.runOnce();
    expect((ra.deliveries ?? 0) + (rb.deliveries ?? 0) + (rest.deliveries ?? 0)).toBe(30);
    expect((await ids("deliveries")).filter((id) => id.startsWith("dlv_both_"))).toEqual([]);
  } finally {
    await other.end();
  }
});

test("retention defaults, and a delivery retention that would not outlive a job is refused", () => {
  const env = parseEnv(Env, {});
  expect(env).toMatchObject({
    DELIVERY_RETENTION_DAYS: 30,
    DEV_OUTBOX_RETENTION_MINUTES: 60,
    DEV_OUTBOX_MAX_MESSAGES: 1000,
    RETENTION_INTERVAL_SECONDS: 600,
    RETENTION_BATCH_SIZE: 1000,
  });
  expect(() => parseEnv(Env, { DELIVERY_RETENTION_DAYS: "1", OTP_TTL_SECONDS: "90000" })).toThrow(/DELIVERY_RETENTION_DAYS/);
});
