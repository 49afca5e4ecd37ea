import { type Subjects, subjects as makeSubjects } from "@authplane/contracts";
import type { BaseEnv, NatsAuthEnv } from "./env.js";
import { withTimeout } from "./http.js";
import { createLogger, type Logger, type LoggerOptions } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { registerOutboxMetrics } from "./ops-metrics.js";
import { connectJetStream, ensureEventStream, type NatsHandles, retryTransient } from "./nats.js";
import { OutboxRelay } from "./outbox.js";
import { createPgPool, type PgPool } from "./postgres.js";
import { createRedis, type Redis } from "./redis.js";

/** What every service opens at start-up, besides its own Prisma client. */
export interface ServiceCore<WithRedis extends boolean = true> {
  logger: Logger;
  metrics: Metrics;
  subjects: Subjects;
  /** A small pg pool of its own for the outbox relay and readiness (never takes request connections). */
  pool: PgPool;
  /** Null for a service that does not use Redis (`redis: false`). */
  redis: WithRedis extends false ? null : Redis;
  nats: NatsHandles;
  /** The service's outbox relay (not started: the service decides when). */
  relay: OutboxRelay;
}

export interface ServiceCoreOptions<WithRedis extends boolean = true> {
  /** Service name: logger name, Redis/NATS connection names, metrics `service` label. */
  service: string;
  /** A ready logger (tests capture lines); otherwise one is created at LOG_LEVEL. */
  logger?: Logger;
  /** Log destination for the created logger. */
  logDestination?: LoggerOptions["destination"];
  /** Connect Redis (default true). */
  redis?: WithRedis;
  /** Size of the relay/readiness pool (default 2). */
  relayPoolSize?: number;
}

/**
 * Logger, metrics, subjects, the relay pool, Redis and NATS (with the event stream ensured), and
 * the outbox relay: the start-up every service shares. If a connection fails, what was already
 * opened is closed again before the error is thrown.
 */
export async function connectServiceCore<WithRedis extends boolean = true>(
  env: Omit<BaseEnv, Exclude<keyof NatsAuthEnv, "NODE_ENV"> | "NATS_STREAM_REPLICAS" | "METRICS_PORT" | "SHUTDOWN_DELAY_MS"> &
    Partial<NatsAuthEnv> & { DATABASE_SCHEMA: string; NATS_STREAM_REPLICAS?: number },
  opts: ServiceCoreOptions<WithRedis>,
): Promise<ServiceCore<WithRedis>> {
  const logger = opts.logger ?? createLogger({ name: opts.service, level: env.LOG_LEVEL, destination: opts.logDestination });
  const metrics = createMetrics(opts.service, { defaultMetrics: env.NODE_ENV !== "test" });
  const subjects = makeSubjects(env.NATS_SUBJECT_PREFIX, env.NATS_STREAM_SUFFIX);
  const pool = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, opts.relayPoolSize ?? 2);
  const redis = opts.redis === false ? null : createRedis(env.REDIS_URL, env.REDIS_PREFIX, { name: opts.service });
  let nats: NatsHandles;
  try {
    nats = await connectJetStream(env.NATS_URL, opts.service, { auth: env });
    // Retried: on a fresh cluster the replicated stream's creation can outlast one API timeout.
    await retryTransient(() => ensureEventStream(nats.jsm, subjects, env.NATS_STREAM_REPLICAS ?? 1)).catch(async (err: unknown) => {
      await nats.nc.close().catch(() => {});
      throw err;
    });
  } catch (err) {
    redis?.disconnect();
    await pool.end().catch(() => {});
    throw err;
  }
  const relay = new OutboxRelay({ pool, schema: env.DATABASE_SCHEMA, js: nats.js, subjects, logger });
  // outbox_backlog and outbox_oldest_age_seconds, read at scrape time (ops-metrics.ts).
  registerOutboxMetrics(metrics.registry, pool, env.DATABASE_SCHEMA);
  return { logger, metrics, subjects, pool, redis: redis as ServiceCore<WithRedis>["redis"], nats, relay };
}

/**
 * Closes what connectServiceCore opened, after the service stopped its own parts: the relay
 * (its running batch finishes; unpublished rows wait for the next instance's poll), NATS
 * (drained, or closed after 5 s when it cannot be), Redis, the relay pool.
 */
export async function closeServiceCore(core: {
  relay: OutboxRelay;
  nats: Pick<NatsHandles, "nc">;
  redis: Redis | null;
  pool: PgPool;
}): Promise<void> {
  await core.relay.stop();
  // Drain flushes what is pending; when NATS is unreachable it cannot, so close rather than hang.
  await withTimeout(core.nats.nc.drain(), 5_000).catch(() => core.nats.nc.close().catch(() => {}));
  core.redis?.disconnect();
  await core.pool.end().catch(() => {});
}
