import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

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

/** OTP requests and deliveries by channel (consumer-auth counts requests, otp-delivery outcomes). */
export interface OtpMetrics {
  requested: Counter<"channel">;
  delivered: Counter<"channel" | "outcome">;
}

const CHANNELS = ["email", "sms"] as const;

/** Registers the OTP counters on `registry` (label values start at 0 so rates exist from the first scrape). */
export function otpMetrics(registry: Registry): OtpMetrics {
  const requested = new Counter({
    name: "otp_requested_total",
    help: "OTP codes requested (a delivery job was queued), by channel",
    labelNames: ["channel"] as const,
    registers: [registry],
  });
  const delivered = new Counter({
    name: "otp_delivery_attempts_total",
    help: "OTP delivery outcomes by channel: sent, failed (gave up), retried (a retry was scheduled)",
    labelNames: ["channel", "outcome"] as const,
    registers: [registry],
  });
  for (const channel of CHANNELS) {
    requested.inc({ channel }, 0);
    for (const outcome of ["sent", "failed", "retried"]) delivered.inc({ channel, outcome }, 0);
  }
  return { requested, delivered };
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
