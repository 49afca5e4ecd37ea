import { Registry } from "prom-client";
import { createLogger } from "../src/logger.js";
import { createPgPool, type PgPool } from "../src/postgres.js";
import { type PruneTask, RetentionPruner } from "../src/retention.js";
import { captureLogs, createTestIsolation, eventually } from "../src/testing/index.js";

const iso = createTestIsolation();
const schema = iso.schema("kit_retention");
let pool: PgPool;

const task: PruneTask = {
  name: "items",
  sql: `DELETE FROM items WHERE id IN (SELECT id FROM items WHERE expires_at < now() - make_interval(secs => $2::double precision) LIMIT $1)`,
  params: () => [3600],
};

beforeAll(async () => {
  pool = createPgPool(iso.databaseUrl, schema, 4);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query("CREATE TABLE items (id text PRIMARY KEY, expires_at timestamptz NOT NULL)");
});

afterAll(async () => {
  await pool.end();
  await iso.cleanup();
});

async function insert(prefix: string, n: number, hoursAgo: number): Promise<void> {
  await pool.query(`INSERT INTO items SELECT $1 || g, now() - $2 * interval '1 hour' FROM generate_series(1, $3) g`, [prefix, hoursAgo, n]);
}

async function left(prefix: string): Promise<number> {
  return Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM items WHERE id LIKE $1 || '%'", [prefix])).rows[0]?.n);
}

function pruner(opts: { logs?: ReturnType<typeof captureLogs>; registry?: Registry; intervalMs?: number } = {}) {
  return new RetentionPruner({
    pool,
    logger: createLogger({ name: "kit-test", level: "info", destination: (opts.logs ?? captureLogs()).stream }),
    registry: opts.registry,
    lockName: schema,
    tasks: [task],
    intervalMs: opts.intervalMs ?? 0,
    batchSize: 4,
    batchPauseMs: 0,
    maxBatches: 100,
  });
}

test("on its timer: expired rows go in batches, a log line and the metric say how many, fresh rows stay; stop() stops it", async () => {
  await insert("old-", 25, 2);
  await insert("fresh-", 5, 0);
  const logs = captureLogs();
  const registry = new Registry();
  const p = pruner({ logs, registry, intervalMs: 100 });
  p.start();
  try {
    await eventually(async () => (await left("old-")) === 0, 5_000);
    expect(await left("fresh-")).toBe(5);
    await eventually(() => logs.lines.some((l) => l.includes("retention: pruned")), 2_000);
    const line = JSON.parse(logs.lines.find((l) => l.includes("retention: pruned")) ?? "{}") as { pruned?: Record<string, number> };
    expect(line.pruned?.items).toBe(25);
    expect(await registry.getSingleMetricAsString("retention_pruned_rows_total")).toMatch(/\{table="items"\} 25/);
  } finally {
    await p.stop();
  }
  await insert("after-stop-", 3, 2);
  await new Promise((r) => setTimeout(r, 400));
  expect(await left("after-stop-")).toBe(3);
  await pool.query("DELETE FROM items");
});

test("while another instance holds the lock, a round skips without error; afterwards it prunes", async () => {
  await insert("locked-", 6, 2);
  const holder = await pool.connect();
  try {
    await holder.query("SELECT pg_advisory_lock(hashtext($1))", [`retention:${schema}`]);
    expect(await pruner().runOnce()).toEqual({ items: 0 });
    expect(await left("locked-")).toBe(6);
  } finally {
    await holder.query("SELECT pg_advisory_unlock(hashtext($1))", [`retention:${schema}`]);
    holder.release();
  }
  expect(await pruner().runOnce()).toEqual({ items: 6 });
  expect(await left("locked-")).toBe(0);
});

test("a failing round (bad statement / Postgres error) is logged and the timer keeps going", async () => {
  const logs = captureLogs();
  const broken = new RetentionPruner({
    pool,
    logger: createLogger({ name: "kit-test", level: "info", destination: logs.stream }),
    lockName: schema,
    tasks: [{ name: "missing", sql: "DELETE FROM no_such_table WHERE $1::int > 0" }],
    intervalMs: 50,
    batchSize: 4,
    batchPauseMs: 0,
    maxBatches: 1,
  });
  broken.start();
  try {
    await eventually(() => logs.lines.filter((l) => l.includes("retention: pruning round failed")).length >= 2, 3_000);
  } finally {
    await broken.stop();
  }
  expect(logs.text()).toContain("42P01");
});
