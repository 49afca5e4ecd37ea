import type { Subjects } from "@authplane/contracts";
import {
  connectServiceCore,
  type JetStreamClient,
  type JetStreamManager,
  type Logger,
  type Metrics,
  type NatsConnection,
  type OutboxRelay,
  createPgPool,
  type PgPool,
  pgPoolConfig,
} from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { DevTransport } from "./transports/dev-transport.js";
import { SmsProviderTransport } from "./transports/sms-provider-transport.js";
import { SmtpTransport } from "./transports/smtp-transport.js";
import type { Transports } from "./transports/transport.js";

/** Everything the consumer and the HTTP app use. Built by `buildDeps` (main.ts, service.ts). */
export interface AppDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  /** Prisma: the dev outbox route and retention (not the delivery path). */
  prisma: PrismaClient;
  /** pg pool of the delivery path (claim, outcome + outbox row, dev_messages): DATABASE_POOL_SIZE. */
  db: PgPool;
  /** pg pool for the outbox relay and readiness. */
  pool: PgPool;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  relay: OutboxRelay;
  transports: Transports;
}

export interface BuildDepsOptions {
  logger?: Logger;
}

export function createTransports(env: Env, db: PgPool): Transports {
  // Test-mode jobs are stored like the dev transport's messages (dev_messages), never sent.
  const dev = new DevTransport(db);
  if (env.DELIVERY_TRANSPORT === "dev") return { email: dev, sms: dev, testSink: dev };
  return {
    testSink: dev,
    email: new SmtpTransport({
      host: env.SMTP_HOST,
      port: env.SMTP_PORT,
      secure: env.SMTP_SECURE,
      requireTls: env.SMTP_REQUIRE_TLS,
      user: env.SMTP_USER,
      password: env.SMTP_PASSWORD,
      from: env.MAIL_FROM,
      timeoutMs: env.DELIVERY_SEND_TIMEOUT_MS,
      maxConnections: env.SMTP_MAX_CONNECTIONS,
    }),
    sms: new SmsProviderTransport({
      baseUrl: env.SMS_BASE_URL,
      accountSid: env.SMS_ACCOUNT_SID,
      authToken: env.SMS_AUTH_TOKEN,
      from: env.SMS_FROM,
      timeoutMs: env.DELIVERY_SEND_TIMEOUT_MS,
    }),
  };
}

export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  // No Redis: deliveries are de-duplicated in Postgres (the delivery record of each event id).
  const core = await connectServiceCore(env, { service: "otp-delivery", logger: opts.logger, redis: false });
  const { logger, metrics, subjects, pool, relay } = core;
  const { nc, js, jsm } = core.nats;
  // Prisma serves the dev outbox route and the retention pruner only: a small pool.
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, Math.min(4, env.DATABASE_POOL_SIZE)), {
      schema: env.DATABASE_SCHEMA,
    }),
  });
  const db = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE);
  const transports = createTransports(env, db);
  return { env, logger, metrics, prisma, db, pool, nc, js, jsm, subjects, relay, transports };
}
