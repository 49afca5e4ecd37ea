import { closeInfra, connectInfra, type Infra, type LoggerOptions, pgPoolConfig } from "@authplane/service-kit";
import type { Subscription } from "@nats-io/transport-node";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Env } from "./env.js";
import { startResponders } from "./events/responders.js";
import { EventTail } from "./events/tail.js";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * Everything createApp and the use cases need (one bag: use cases take `(deps, input)`, typed by the
 * part they use: `Store` to write, `Reader` to read). Tests build it with `startAdminKeyInProcess`.
 * The kit's `Infra` part: logger, metrics, prisma, the relay/readiness `pool`, redis, nats, subjects,
 * the outbox `relay`.
 */
export interface AppDeps extends Infra<Env, PrismaClient> {
  /** Called after a transaction that wrote outbox rows has committed: kicks the relay. */
  afterCommit(): void;
  responders: Subscription[];
  /** Every service's auth events, per organization, for the console's live tail. */
  eventTail: EventTail;
}

export interface BuildDepsOptions {
  /** Log destination (tests capture lines to assert nothing secret is logged). */
  logDestination?: LoggerOptions["destination"];
}

/** A Prisma client outside the service (the CLI). */
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
  const infra = await connectInfra(env, { service: "admin-key", logDestination: opts.logDestination, prisma: PrismaClient });
  const { nats, subjects, prisma, logger, relay } = infra;
  relay.start();
  const responders = startResponders({ nc: nats.nc, subjects, prisma, logger });
  const eventTail = new EventTail({ nc: nats.nc, subjects, logger });
  eventTail.start();
  await nats.nc.flush();
  return { ...infra, afterCommit: () => relay.kick(), responders, eventTail };
}

/** Closes what buildDeps opened, in order: stop answering, publish what is pending, disconnect. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  for (const s of deps.responders) s.unsubscribe();
  deps.eventTail.stop();
  await deps.relay.flush().catch(() => {});
  await closeInfra(deps);
}
