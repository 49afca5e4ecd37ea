import pg from "pg";
import { classifyDependencyError } from "../src/errors.js";
import { createRedis } from "../src/redis.js";
import { TEST_DATABASE_URL } from "../src/testing/index.js";

// Real failures, not hand-made error objects: what a route sees when a server is gone.
test("Postgres unreachable is a postgres 503", async () => {
  const pool = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/postgres", connectionTimeoutMillis: 500 });
  const err = await pool.query("SELECT 1").catch((e: unknown) => e);
  await pool.end();
  expect(classifyDependencyError(err)?.dependency).toBe("postgres");
  expect(classifyDependencyError(err)?.status).toBe(503);
});

test("a SQL bug stays a 500 (not hidden behind 'unavailable')", async () => {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL });
  const err = await pool.query("SELECT * FROM no_such_table_at_all").catch((e: unknown) => e);
  await pool.end();
  expect(classifyDependencyError(err)).toBeNull();
  expect(classifyDependencyError(new Error("boom"))).toBeNull();
});

test("Redis unreachable is a redis 503, quickly", async () => {
  const redis = createRedis("redis://127.0.0.1:1", "x:", { commandTimeoutMs: 300 });
  const started = Date.now();
  const err = await redis.get("k").catch((e: unknown) => e);
  redis.disconnect();
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(classifyDependencyError(err)?.dependency).toBe("redis");
});

test("a service whose NATS is unreachable fails to start with an error and leaves nothing open", async () => {
  const { connectServiceCore } = await import("../src/core.js");
  const sockets = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
  const before = sockets();
  const err = await connectServiceCore(
    {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      HOST: "127.0.0.1",
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_POOL_SIZE: 2,
      DATABASE_SCHEMA: "public",
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: "t:core:",
      NATS_URL: "nats://127.0.0.1:1",
      NATS_SUBJECT_PREFIX: "",
      NATS_STREAM_SUFFIX: "",
      TRUST_PROXY: "loopback",
      RATE_LIMIT_IPV6_PREFIX: 64,
      SHUTDOWN_GRACE_MS: 1000,
    },
    { service: "core-test" },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(classifyDependencyError(err)?.dependency).toBe("nats");
  // The Redis connection opened before NATS was closed again (no socket left behind).
  await new Promise((r) => setTimeout(r, 200));
  expect(sockets()).toBeLessThanOrEqual(before);
});
