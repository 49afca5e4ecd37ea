import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { subjects as makeSubjects, type Subjects } from "@authplane/contracts";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * Everything one test file needs to be isolated on the machine's real servers: its own Postgres
 * schema(s), Redis key prefix and NATS subject prefix/stream suffix. `cleanup()` removes them all.
 */
export interface TestIsolation {
  id: string;
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  /** A schema name for `service` unique to this test file (e.g. `t_ab12cd_admin_key`). */
  schema(service: string): string;
  redisPrefix: string;
  natsSubjectPrefix: string;
  natsStreamSuffix: string;
  subjects: Subjects;
  /** Environment variables for a service under test (merge over its own). */
  env(service: string): Record<string, string>;
  /**
   * Deletes every Redis key under this isolation's prefix (what a flush, restart without persistence
   * or failover to an empty replica does to the test's data; the shared server is never flushed whole).
   * Returns how many keys were deleted.
   */
  flushRedis(): Promise<number>;
  cleanup(): Promise<void>;
}

export function createTestIsolation(): TestIsolation {
  const id = randomBytes(4).toString("hex");
  const schemas = new Set<string>();
  const redisPrefix = `t:${id}:`;
  const natsSubjectPrefix = `t${id}.`;
  const natsStreamSuffix = `_T${id}`;
  const schema = (service: string) => {
    const s = `t_${id}_${service.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}`;
    schemas.add(s);
    return s;
  };
  const flushRedis = async (): Promise<number> => {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    let deleted = 0;
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${redisPrefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
    return deleted;
  };
  return {
    id,
    databaseUrl: TEST_DATABASE_URL,
    redisUrl: TEST_REDIS_URL,
    natsUrl: TEST_NATS_URL,
    schema,
    redisPrefix,
    natsSubjectPrefix,
    natsStreamSuffix,
    subjects: makeSubjects(natsSubjectPrefix, natsStreamSuffix),
    env(service: string) {
      return {
        NODE_ENV: "test",
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema(service),
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: `${redisPrefix}${service}:`,
        NATS_URL: TEST_NATS_URL,
        NATS_SUBJECT_PREFIX: natsSubjectPrefix,
        NATS_STREAM_SUFFIX: natsStreamSuffix,
      };
    },
    flushRedis,
    async cleanup() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await client.end();
      }
      await flushRedis();
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        for await (const name of jsm.streams.names()) {
          if (name.endsWith(natsStreamSuffix)) await jsm.streams.delete(name).catch(() => {});
        }
      } finally {
        await nc.close();
      }
    },
  };
}

/** A log destination that keeps every line, to assert that nothing secret was logged. */
export function captureLogs(): { stream: Writable; lines: string[]; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return { stream, lines, text: () => lines.join("\n") };
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw lastErr instanceof Error ? lastErr : new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
export * from "./hostile.js";
export * from "./openapi.js";
export * from "./browser.js";
