import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, type Registry } from "prom-client";
import type { JetStreamManager } from "@nats-io/jetstream";
import { withTimeout } from "./http.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { type PgPool, qi } from "./postgres.js";

export interface MetricsServer {
  server: Server;
  /** The port it listens on (the configured one, or the one picked for METRICS_PORT=0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The Prometheus listener: `GET /metrics` on its own port (METRICS_PORT), nothing else. Keeping it
 * off the public port means a gateway or ingress cannot expose it by accident, and a network
 * policy can let only the scraper reach it.
 */
export async function serveMetrics(opts: { metrics: Metrics; port: number; host: string; logger: Logger }): Promise<MetricsServer> {
  const { registry } = opts.metrics;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found" }));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: Error) => {
        opts.logger.warn({ err: err.message }, "collecting metrics failed");
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "internal_error" }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger.info({ metricsPort: port }, "metrics listening");
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One instance of each domain metric per registry (the code that counts and the code that registers it at start-up share it). */
const perRegistry = new WeakMap<Registry, Map<string, unknown>>();
function once<T>(registry: Registry, name: string, make: () => T): T {
  let m = perRegistry.get(registry);
  if (!m) {
    m = new Map();
    perRegistry.set(registry, m);
  }
  if (!m.has(name)) m.set(name, make());
  return m.get(name) as T;
}

/** OTP requests and deliveries by channel (consumer-auth counts requests, otp-delivery outcomes). */
export interface OtpMetrics {
  requested: Counter<"channel">;
  delivered: Counter<"channel" | "outcome">;
}

const CHANNELS = ["email", "sms"] as const;

/**
 * `otp_requested_total{channel}` (a delivery job was queued) and
 * `otp_delivery_attempts_total{channel, outcome}` (sent, failed: given up, retry: a retry was
 * scheduled). Label values start at 0 so rates exist from the first scrape.
 */
export function otpMetrics(registry: Registry): OtpMetrics {
  return once(registry, "otp", () => {
    const requested = new Counter({
      name: "otp_requested_total",
      help: "OTP codes requested (a delivery job was queued), by channel",
      labelNames: ["channel"] as const,
      registers: [registry],
    });
    const delivered = new Counter({
      name: "otp_delivery_attempts_total",
      help: "OTP delivery outcomes by channel: sent, failed (given up), retry (a retry was scheduled)",
      labelNames: ["channel", "outcome"] as const,
      registers: [registry],
    });
    for (const channel of CHANNELS) {
      requested.inc({ channel }, 0);
      for (const outcome of ["sent", "failed", "retry"]) delivered.inc({ channel, outcome }, 0);
    }
    return { requested, delivered };
  });
}

/** `key_cache_lookups_total{result="hit"|"miss"}`: API-key checks answered from the cache or asked of admin-key. */
export function keyCacheMetrics(registry: Registry): Counter<"result"> {
  return once(registry, "keyCache", () => {
    const c = new Counter({
      name: "key_cache_lookups_total",
      help: "API key checks by result: hit (answered from the cache) or miss (asked admin-key)",
      labelNames: ["result"] as const,
      registers: [registry],
    });
    c.inc({ result: "hit" }, 0);
    c.inc({ result: "miss" }, 0);
    return c;
  });
}

/** `refresh_token_reuse_detected_total`: a used refresh token presented again after the grace window (session revoked). */
export function refreshReuseMetric(registry: Registry): Counter {
  return once(
    registry,
    "refreshReuse",
    () =>
      new Counter({
        name: "refresh_token_reuse_detected_total",
        help: "Refresh tokens reused after the grace window (theft suspected; the session was revoked)",
        registers: [registry],
      }),
  );
}

/** `passkey_counter_anomalies_total`: sign-ins refused because the signature counter went backwards (cloned authenticator?). */
export function passkeyCounterAnomalyMetric(registry: Registry): Counter {
  return once(
    registry,
    "passkeyCounter",
    () =>
      new Counter({
        name: "passkey_counter_anomalies_total",
        help: "Passkey sign-ins refused because the signature counter did not increase (possible cloned authenticator)",
        registers: [registry],
      }),
  );
}

/**
 * `outbox_backlog` (rows not yet published) and `outbox_oldest_age_seconds` (age of the oldest
 * of them; 0 when none), read from the service's outbox table at scrape time.
 */
export function registerOutboxMetrics(registry: Registry, pool: PgPool, schema: string): void {
  once(registry, "outbox", () => {
    const table = `${qi(schema)}."outbox_events"`;
    let last: Promise<{ n: number; age: number }> | null = null;
    // Both gauges are filled from one query per scrape.
    const read = () => {
      last ??= pool
        .query<{ n: string; age: number | null }>(
          `SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM ${table} WHERE published_at IS NULL`,
        )
        .then((r) => ({ n: Number(r.rows[0]?.n ?? 0), age: Number(r.rows[0]?.age ?? 0) }))
        .finally(() => setImmediate(() => (last = null)));
      return last;
    };
    scrapedGauge(registry, { name: "outbox_backlog", help: "Outbox rows not yet published to NATS" }, async (set) =>
      set({}, (await read()).n),
    );
    scrapedGauge(
      registry,
      { name: "outbox_oldest_age_seconds", help: "Age of the oldest unpublished outbox row (0 when none)" },
      async (set) => set({}, (await read()).age),
    );
    return true;
  });
}

/**
 * `jetstream_consumer_pending{stream, consumer}` (messages not yet delivered) and
 * `jetstream_consumer_ack_pending{stream, consumer}` (delivered, not yet acknowledged), asked of
 * JetStream at scrape time.
 */
export function registerConsumerPendingMetrics(registry: Registry, jsm: JetStreamManager, stream: string, consumer: string): void {
  let last: Promise<{ pending: number; ackPending: number }> | null = null;
  const read = () => {
    last ??= withTimeout(jsm.consumers.info(stream, consumer), 1_000)
      .then((i) => ({ pending: i.num_pending, ackPending: i.num_ack_pending }))
      .finally(() => setImmediate(() => (last = null)));
    return last;
  };
  const labels = { stream, consumer };
  once(registry, "jsPending", () => {
    scrapedGauge(
      registry,
      {
        name: "jetstream_consumer_pending",
        help: "Messages of a JetStream consumer not yet delivered",
        labelNames: ["stream", "consumer"] as const,
      },
      async (set) => set(labels, (await read()).pending),
    );
    scrapedGauge(
      registry,
      {
        name: "jetstream_consumer_ack_pending",
        help: "Messages of a JetStream consumer delivered and not yet acknowledged",
        labelNames: ["stream", "consumer"] as const,
      },
      async (set) => set(labels, (await read()).ackPending),
    );
    return true;
  });
}
/**
 * A gauge whose value is read at scrape time by `read` (a query). A failing read leaves the
 * gauge without a value for that scrape rather than failing the whole scrape.
 */
export function scrapedGauge<L extends string>(
  registry: Registry,
  spec: { name: string; help: string; labelNames?: readonly L[] },
  read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => Promise<void>,
): Gauge<L> {
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: (spec.labelNames ?? []) as L[],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        await read((labels, value) => this.set(labels as never, value));
      } catch {
        // Dependency down: /readyz and the logs say so; the scrape still answers.
      }
    },
  });
}
