import type { Server } from "node:http";
import type { Logger } from "./logger.js";

export interface ShutdownOptions {
  logger: Logger;
  server: Server;
  /** Closed in order after the HTTP server has drained (consumers, outbox relay, NATS, Redis, Postgres). */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
  graceMs: number;
}

/**
 * Graceful shutdown: stop accepting, let in-flight requests finish (up to graceMs), then close the
 * dependencies in order. Returns the function that does it (also wired to SIGTERM and SIGINT).
 */
export function installGracefulShutdown(opts: ShutdownOptions): () => Promise<void> {
  let shuttingDown: Promise<void> | null = null;
  const shutdown = () => {
    if (shuttingDown) return shuttingDown;
    shuttingDown = (async () => {
      opts.logger.info("shutting down: draining in-flight requests");
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
