import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { importSealPrivateKey, otpMetrics, registerConsumerPendingMetrics, withTimeout } from "@authplane/service-kit";
import { createOtpDeliveryPruner } from "./retention.js";
import { createApp } from "./app.js";
import { type AppDeps, type BuildDepsOptions, buildDeps } from "./deps.js";
import type { Env } from "./env.js";
import { OtpRequestedConsumer } from "./events/otp-requested-consumer.js";
import { deliverOtp } from "./usecases/deliver-otp.js";

export interface RunningService {
  deps: AppDeps;
  consumer: OtpRequestedConsumer;
  server: Server;
  /** http://host:port of the HTTP side. */
  url: string;
  /** Closers in shutdown order (after the HTTP server): consumer, relay, transports, NATS, Postgres. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
  /** Graceful stop without touching process signals (tests; main.ts wires signals). */
  stop(): Promise<void>;
}

/** Connects, starts the consumer, the outbox relay and the HTTP side. Migrations run before this. */
export async function startOtpDelivery(env: Env, opts: BuildDepsOptions = {}): Promise<RunningService> {
  const deps = await buildDeps(env, opts);
  const { logger } = deps;
  const sealKeys = env.OTP_SEAL_PRIVATE_KEY.map(importSealPrivateKey);
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
    metrics: otpMetrics(deps.metrics.registry),
    handle: (job) =>
      deliverOtp(
        {
          db: deps.db,
          transports: deps.transports,
          sealKeys,
          logger,
          onOutboxWrite: () => deps.relay.kick(),
          metrics: otpMetrics(deps.metrics.registry),
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
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(env.PORT, env.HOST, () => resolve(s));
  });
  const address = server.address() as AddressInfo;
  const host = env.HOST === "0.0.0.0" ? "127.0.0.1" : env.HOST;
  const url = `http://${host}:${address.port}`;
  logger.info({ url, transport: env.DELIVERY_TRANSPORT }, "otp-delivery started");
  if (env.DELIVERY_TRANSPORT === "live" && !(env.SMS_ACCOUNT_SID && env.SMS_AUTH_TOKEN && env.SMS_FROM))
    logger.warn("SMS_ACCOUNT_SID, SMS_AUTH_TOKEN or SMS_FROM is empty: SMS jobs will fail (email only)");

  const closers: RunningService["closers"] = [
    // Stop pulling, finish the messages in hand (acked or nak'ed), then publish their events.
    { name: "consumer", close: () => consumer.stop() },
    { name: "retention pruner", close: () => pruner.stop() },
    {
      name: "outbox relay",
      close: async () => {
        await deps.relay.flush().catch(() => {});
        await deps.relay.stop();
      },
    },
    {
      name: "transports",
      close: () => {
        for (const t of Object.values(deps.transports)) t.close?.();
      },
    },
    {
      // Drain flushes pending acks; when NATS is unreachable it cannot, so close rather than hang.
      name: "nats",
      close: () => withTimeout(deps.nc.drain(), 5_000).catch(() => deps.nc.close()),
    },
    { name: "prisma", close: () => deps.prisma.$disconnect() },
    { name: "delivery pool", close: () => deps.db.end() },
    { name: "postgres", close: () => deps.pool.end() },
  ];
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      for (const c of closers) {
        try {
          await c.close();
        } catch (err) {
          logger.warn({ closer: c.name, err: (err as Error).message }, "error while closing");
        }
      }
    })();
    return stopping;
  };
  return { deps, consumer, server, url, closers, stop };
}
