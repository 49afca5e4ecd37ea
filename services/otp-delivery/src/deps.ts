import { subjects as makeSubjects, type Subjects } from "@authplane/contracts";
import {
  connectJetStream,
  createLogger,
  createMetrics,
  createPgPool,
  ensureEventStream,
  type JetStreamClient,
  type JetStreamManager,
  type Logger,
  type Metrics,
  type NatsConnection,
  OutboxRelay,
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
  prisma: PrismaClient;
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

export function createTransports(env: Env, prisma: PrismaClient): Transports {
  if (env.DELIVERY_TRANSPORT === "dev") {
    const dev = new DevTransport(prisma);
    return { email: dev, sms: dev };
  }
  return {
    email: new SmtpTransport({
      host: env.SMTP_HOST,
      port: env.SMTP_PORT,
      secure: env.SMTP_SECURE,
      user: env.SMTP_USER,
      password: env.SMTP_PASSWORD,
      from: env.MAIL_FROM,
      timeoutMs: env.DELIVERY_SEND_TIMEOUT_MS,
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
  const logger = opts.logger ?? createLogger({ name: "otp-delivery", level: env.LOG_LEVEL });
  const metrics = createMetrics("otp-delivery", { defaultMetrics: env.NODE_ENV !== "test" });
  const subjects = makeSubjects(env.NATS_SUBJECT_PREFIX, env.NATS_STREAM_SUFFIX);
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE), { schema: env.DATABASE_SCHEMA }),
  });
  const pool = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, 2);
  const { nc, js, jsm } = await connectJetStream(env.NATS_URL, "otp-delivery");
  await ensureEventStream(jsm, subjects);
  const relay = new OutboxRelay({ pool, schema: env.DATABASE_SCHEMA, js, subjects, logger });
  const transports = createTransports(env, prisma);
  return { env, logger, metrics, prisma, pool, nc, js, jsm, subjects, relay, transports };
}
