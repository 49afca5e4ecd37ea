import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, parseEnv } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { type AppDeps, buildDeps, startDelivery } from "./deps.js";
import { Env } from "./env.js";
import type { OtpRequestedConsumer } from "./events/otp-requested-consumer.js";
import { migrate } from "./migrate.js";

/** otp-delivery started by a test: what main.ts starts, without the process signals and metrics port. */
export interface RunningService {
  deps: AppDeps;
  consumer: OtpRequestedConsumer;
  /** http://127.0.0.1:port of the HTTP side. */
  url: string;
  /** Closes the HTTP server, then the closers in main.ts's shutdown order. */
  stop(): Promise<void>;
}

/**
 * Starts otp-delivery for a test (or for another service's end-to-end test): migrates its schema,
 * starts the consumer, the relay and HTTP on a random port. Pass `iso.env("otp-delivery")` plus
 * overrides (e.g. short DELIVERY_BACKOFF_SECONDS).
 */
export async function startTestOtpDelivery(vars: Record<string, string>, opts: { logger?: Logger } = {}): Promise<RunningService> {
  const env = parseEnv(Env, { PORT: "0", HOST: "127.0.0.1", ...vars });
  await migrate(env);
  const deps = await buildDeps(env, opts);
  const { consumer, closers } = await startDelivery(deps);
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(env.PORT, env.HOST, () => resolve(s));
  });
  const url = `http://${env.HOST}:${(server.address() as AddressInfo).port}`;
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
          deps.logger.warn({ closer: c.name, err: (err as Error).message }, "error while closing");
        }
      }
    })();
    return stopping;
  };
  return { deps, consumer, url, stop };
}
