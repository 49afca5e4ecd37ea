import {
  closeInfra,
  connectInfra,
  createPgPool,
  importSealPrivateKey,
  type Infra,
  type JetStreamClient,
  type JetStreamManager,
  type Logger,
  type NatsConnection,
  otpMetrics,
  type PgPool,
  type Redis,
  registerConsumerPendingMetrics,
} from "@authplane/service-kit";
import type { Env } from "./env.js";
import { OtpRequestedConsumer } from "./events/otp-requested-consumer.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { DevTransport } from "./transports/dev-transport.js";
import { SmsProviderTransport } from "./transports/sms-provider-transport.js";
import { SmtpTransport } from "./transports/smtp-transport.js";
import type { Transports } from "./transports/transport.js";
import { createOtpDeliveryPruner } from "./retention.js";
import { deliverOtp } from "./usecases/deliver-otp.js";

/**
 * Everything the consumer and the HTTP app use. Built by `buildDeps` (main.ts, testing.ts). The
 * kit's `Infra` part: logger, metrics, prisma (the HTTP routes and retention, not the delivery
 * path), the relay/readiness `pool`, subjects, the outbox `relay`, `redis` (the admin endpoints'
 * rate limit only; NATS as `nc`/`js`/`jsm`).
 */
export interface AppDeps extends Omit<Infra<Env, PrismaClient>, "nats" | "redis"> {
  /** The admin endpoints' per-IP rate limit; the delivery path never uses Redis. */
  redis: Redis;
  /** pg pool of the delivery path (claim, outcome + outbox row, dev_messages): DATABASE_POOL_SIZE. */
  db: PgPool;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
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
  // Deliveries never touch Redis (they are de-duplicated in Postgres, by the delivery record of
  // each event id); it holds the admin endpoints' rate-limit buckets only, and is not awaited here.
  // Prisma serves the HTTP routes (admin, dev outbox) and the retention pruner only: a small pool.
  const { nats, ...infra } = await connectInfra(env, {
    service: "otp-delivery",
    logger: opts.logger,
    prisma: PrismaClient,
    prismaPool: Math.min(4, env.DATABASE_POOL_SIZE),
  });
  const db = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE);
  return { ...infra, db, nc: nats.nc, js: nats.js, jsm: nats.jsm, transports: createTransports(env, db) };
}

type Closer = { name: string; close: () => Promise<unknown> | unknown };

/**
 * Starts the delivery side: the outbox relay, the retention pruner and the `otp.v1.requested`
 * consumer. Returns it and the closers in shutdown order (after the HTTP server): consumer, pruner,
 * then the dependencies (pending outbox rows published, transports, NATS, Postgres).
 */
export async function startDelivery(deps: AppDeps): Promise<{ consumer: OtpRequestedConsumer; closers: Closer[] }> {
  const { env, logger } = deps;
  const sealKeys = env.OTP_SEAL_PRIVATE_KEY.map(importSealPrivateKey);
  const metrics = otpMetrics(deps.metrics.registry);
  const consumer = new OtpRequestedConsumer({
    js: deps.js,
    jsm: deps.jsm,
    subjects: deps.subjects,
    logger,
    durableName: env.DELIVERY_CONSUMER_NAME,
    streamMaxAgeSeconds: env.OTP_TTL_SECONDS,
    streamReplicas: env.NATS_STREAM_REPLICAS,
    backoffSeconds: env.DELIVERY_BACKOFF_SECONDS,
    maxDeliver: env.DELIVERY_MAX_ATTEMPTS,
    concurrency: env.DELIVERY_CONCURRENCY,
    metrics,
    handle: (job) =>
      deliverOtp(
        {
          db: deps.db,
          transports: deps.transports,
          sealKeys,
          logger,
          onOutboxWrite: () => deps.relay.kick(),
          metrics,
          backoffMs: env.DELIVERY_BACKOFF_SECONDS.map((s) => s * 1000),
          maxAttempts: env.DELIVERY_MAX_ATTEMPTS,
          leaseMs: env.DELIVERY_SEND_TIMEOUT_MS + 10_000,
        },
        job,
      ),
  });
  // jetstream_consumer_pending / _ack_pending of the delivery consumer, asked of JetStream at scrape time.
  registerConsumerPendingMetrics(deps.metrics.registry, deps.jsm, deps.subjects.otpStream, env.DELIVERY_CONSUMER_NAME);
  deps.relay.start();
  const pruner = createOtpDeliveryPruner(deps);
  pruner.start();
  await consumer.start();
  if (env.DELIVERY_TRANSPORT === "live" && !(env.SMS_ACCOUNT_SID && env.SMS_AUTH_TOKEN && env.SMS_FROM))
    logger.warn("SMS_ACCOUNT_SID, SMS_AUTH_TOKEN or SMS_FROM is empty: SMS jobs will fail (email only)");
  const closers: Closer[] = [
    // Stop pulling, finish the messages in hand (acked or nak'ed), then publish their events.
    { name: "consumer", close: () => consumer.stop() },
    { name: "retention pruner", close: () => pruner.stop() },
    { name: "dependencies", close: () => closeDeps(deps) },
  ];
  return { consumer, closers };
}

/** Closes what buildDeps opened: publishes pending outbox rows, closes the transports, NATS and Postgres. */
async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.relay.flush().catch(() => {});
  for (const t of Object.values(deps.transports)) t.close?.();
  await closeInfra({ ...deps, nats: { nc: deps.nc } });
  await deps.db.end().catch(() => {});
}
