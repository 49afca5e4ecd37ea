import type { Subjects } from "@authplane/contracts";
import {
  closeServiceCore,
  connectServiceCore,
  type Logger,
  type LoggerOptions,
  type Metrics,
  type NatsHandles,
  type OutboxRelay,
  type PgPool,
  type Redis,
  pgPoolConfig,
} from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Subscription } from "@nats-io/transport-node";
import type { Env } from "./env.js";
import { startResponders } from "./events/responders.js";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * Everything createApp and the use cases need (one bag: use cases take `(deps, input)`, typed by the
 * part they use: `Store` to write, `Reader` to read). Tests build it with `startAdminKeyInProcess`.
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
  outbox: OutboxRelay;
  /** Called after a transaction that wrote outbox rows has committed: kicks the relay. */
  afterCommit(): void;
  responders: Subscription[];
}

export interface BuildDepsOptions {
  /** Log destination (tests capture lines to assert nothing secret is logged). */
  logDestination?: LoggerOptions["destination"];
}

export function createPrisma(env: Pick<Env, "DATABASE_URL" | "DATABASE_POOL_SIZE" | "DATABASE_SCHEMA">): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE), { schema: env.DATABASE_SCHEMA }),
  });
}

/**
 * Connects Postgres, Redis and NATS, ensures the event stream, and starts the `keys.v1.verify` /
 * `orgs.v1.get` responders and the outbox relay. Migrations are the caller's job (main, testing).
 */
export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  const core = await connectServiceCore(env, { service: "admin-key", logDestination: opts.logDestination });
  const { logger, metrics, subjects, pool, redis, nats, relay: outbox } = core;
  const prisma = createPrisma(env);
  outbox.start();
  const responders = startResponders({ nc: nats.nc, subjects, prisma, logger });
  await nats.nc.flush();
  const afterCommit = () => outbox.kick();
  return { env, logger, metrics, prisma, pool, redis, nats, subjects, outbox, afterCommit, responders };
}

/** Closes what buildDeps opened, in order: stop answering, publish what is pending, disconnect. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  for (const s of deps.responders) s.unsubscribe();
  await deps.outbox.flush().catch(() => {});
  await closeServiceCore({ relay: deps.outbox, nats: deps.nats, redis: deps.redis, pool: deps.pool });
  await deps.prisma.$disconnect().catch(() => {});
}
