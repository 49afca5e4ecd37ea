import type { Subjects } from "@authplane/contracts";
import {
  closeServiceCore,
  connectServiceCore,
  KeyVerifier,
  keyCacheMetrics,
  type Logger,
  type Metrics,
  type NatsHandles,
  passkeyCounterAnomalyMetric,
  type OutboxRelay,
  type PgPool,
  type Redis,
  pgPoolConfig,
} from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import type { LoggerOptions } from "@authplane/service-kit";
import { ChallengeStore } from "./challenges.js";
import type { Env } from "./env.js";
import { OneTimeTokens } from "./one-time-tokens.js";
import { UsernameHasher } from "./usernames.js";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * Everything createApp and the use cases need (one bag: use cases take `(deps, input)`). Tests
 * build it with `buildDeps` (or `startWebauthnForTest`).
 */
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
  keys: Pick<KeyVerifier, "check">;
  outbox: OutboxRelay;
  /** WebAuthn challenges in Redis. */
  challenges: ChallengeStore;
  /** rtn_/atn_ one-time tokens (and their tombstones) in Redis. */
  tokens: OneTimeTokens;
  usernames: UsernameHasher;
}

export interface BuildDepsOptions {
  /** Log destination (tests capture lines to assert nothing secret is logged). */
  logDestination?: LoggerOptions["destination"];
}

/** Connects Postgres, Redis and NATS and starts the key verifier and outbox relay. */
export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  const core = await connectServiceCore(env, {
    service: "webauthn-credential",
    logDestination: opts.logDestination,
    relayPoolSize: Math.max(2, Math.ceil(env.DATABASE_POOL_SIZE / 4)),
  });
  const { logger, metrics, subjects, pool, redis, nats, relay: outbox } = core;
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE), { schema: env.DATABASE_SCHEMA }),
  });
  // Domain metrics on /metrics from the start (at 0).
  passkeyCounterAnomalyMetric(metrics.registry);
  keyCacheMetrics(metrics.registry);
  const keys = new KeyVerifier({ nc: nats.nc, subjects, logger, metrics });
  keys.start();
  await keys.ready();
  outbox.start();
  return {
    env,
    logger,
    metrics,
    prisma,
    pool,
    redis,
    nats,
    subjects,
    keys,
    outbox,
    challenges: new ChallengeStore(redis, env.CHALLENGE_TTL_SECONDS),
    tokens: new OneTimeTokens(redis, env.TOKEN_TTL_SECONDS, env.TOKEN_TOMBSTONE_SECONDS),
    usernames: new UsernameHasher(env.USERNAME_HASH_SECRET),
  };
}

/** Closes what buildDeps opened, in order. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  if (deps.keys instanceof KeyVerifier) deps.keys.stop();
  await closeServiceCore({ relay: deps.outbox, nats: deps.nats, redis: deps.redis, pool: deps.pool });
  await deps.prisma.$disconnect().catch(() => {});
}
