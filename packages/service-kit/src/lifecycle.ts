import type { Server } from "node:http";
import type { Logger } from "./logger.js";
import { shutdownTracing } from "./tracing-config.js";

let draining = false;

/**
 * True once this process started a graceful shutdown: /readyz answers 503 from then on, so the
 * load balancer (Kubernetes readiness, compose health check) stops sending traffic at once.
 */
export function isDraining(): boolean {
  return draining;
}

export interface ShutdownOptions {
  logger: Logger;
  server: Server;
  /** Closed in order after the HTTP server has drained (consumers, outbox relay, NATS, Redis, Postgres). */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
  graceMs: number;
  /**
   * How long to keep accepting requests after the drain started, with /readyz answering 503, so
   * that load balancers that poll readiness stop routing here before the listener closes
   * (SHUTDOWN_DELAY_MS; default 0: close the listener at once).
   */
  delayMs?: number;
}

/**
 * Graceful shutdown: stop accepting, let in-flight requests finish (up to graceMs), then close the
 * dependencies in order. Returns the function that does it (also wired to SIGTERM and SIGINT).
 */
export function installGracefulShutdown(opts: ShutdownOptions): () => Promise<void> {
  let shuttingDown: Promise<void> | null = null;
  const shutdown = () => {
    if (shuttingDown) return shuttingDown;
    draining = true;
    shuttingDown = (async () => {
      opts.logger.info({ delayMs: opts.delayMs ?? 0 }, "shutting down: readiness is 503, draining in-flight requests");
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const closed = new Promise<void>((resolve) => opts.server.close(() => resolve()));
      opts.server.closeIdleConnections();
      const timer = setTimeout(() => opts.server.closeAllConnections(), opts.graceMs);
      await closed;
      clearTimeout(timer);
      for (const c of opts.closers) {
        try {
          await c.close();
        } catch (err) {
          opts.logger.warn({ err: (err as Error).message, closer: c.name }, "error while closing");
        }
      }
      // The spans of the last requests leave before the process exits (no-op without tracing).
      await shutdownTracing().catch(() => {});
      opts.logger.info("shutdown complete");
      opts.logger.flush?.();
    })();
    return shuttingDown;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    opts.logger.info({ signal }, "signal received");
    void shutdown().then(() => process.exit(0));
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return shutdown;
}
