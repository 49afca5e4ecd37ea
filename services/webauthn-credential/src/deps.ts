import { type Subjects, subjects as makeSubjects } from "@authplane/contracts";
import {
  connectJetStream,
  createLogger,
  createMetrics,
  createPgPool,
  createRedis,
  ensureEventStream,
  KeyVerifier,
  type Logger,
  type Metrics,
  type NatsHandles,
  OutboxRelay,
  type PgPool,
  type Redis,
  pgPoolConfig,
} from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import type { LoggerOptions } from "@authplane/service-kit";
import type { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";

/** Everything createApp needs. Tests build it with `buildDeps` (or `startWebauthnForTest`). */
export interface AppDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  prisma: PrismaClient;
  /** Raw pool for the outbox relay and readiness. */
  pool: PgPool;
  redis: Redis;
  nats: NatsHandles;
  subjects: Subjects;
  keys: Pick<KeyVerifier, "verify">;
  outbox: OutboxRelay;
}

export interface BuildDepsOptions {
  /** Log destination (tests capture lines to assert nothing secret is logged). */
  logDestination?: LoggerOptions["destination"];
}

/** Connects Postgres, Redis and NATS and starts the key verifier and outbox relay. */
export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  const logger = createLogger({ name: "webauthn-credential", level: env.LOG_LEVEL, destination: opts.logDestination });
  const metrics = createMetrics("webauthn_credential", { defaultMetrics: env.NODE_ENV !== "test" });
  const subjects = makeSubjects(env.NATS_SUBJECT_PREFIX, env.NATS_STREAM_SUFFIX);
  const pool = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, Math.max(2, Math.ceil(env.DATABASE_POOL_SIZE / 4)));
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE), { schema: env.DATABASE_SCHEMA }),
  });
  const redis = createRedis(env.REDIS_URL, env.REDIS_PREFIX, { name: "webauthn-credential" });
  const nats = await connectJetStream(env.NATS_URL, "webauthn-credential");
  await ensureEventStream(nats.jsm, subjects);
  const keys = new KeyVerifier({ nc: nats.nc, subjects, logger });
  keys.start();
  await keys.ready();
  const outbox = new OutboxRelay({ pool, schema: env.DATABASE_SCHEMA, js: nats.js, subjects, logger });
  outbox.start();
  return { env, logger, metrics, prisma, pool, redis, nats, subjects, keys, outbox };
}

/** Closes what buildDeps opened, in order. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.outbox.stop();
  if (deps.keys instanceof KeyVerifier) deps.keys.stop();
  await deps.nats.nc.drain().catch(() => {});
  deps.redis.disconnect();
  await deps.prisma.$disconnect().catch(() => {});
  await deps.pool.end().catch(() => {});
}
