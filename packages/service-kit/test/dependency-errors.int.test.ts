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
