import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type LoggerOptions } from "@authplane/service-kit";
import type { TestIsolation } from "@authplane/service-kit/testing";
import type { Express } from "express";
import { createApp } from "./app.js";
import { type AppDeps, buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

export interface ConsumerAuthForTest {
  app: Express;
  deps: AppDeps;
  /** Base URL when `listen: true` (e.g. http://127.0.0.1:43123). */
  url: string | null;
  stop(): Promise<void>;
}

/**
 * Builds consumer-auth in-process on the isolation's Postgres schema, Redis prefix and NATS
 * prefix (migrations applied). Needs admin-key answering `keys.v1.verify` on the same isolation
 * (e.g. `startAdminKeyForTest(iso)`) for keyed endpoints. `env` overrides variables (e.g.
 * REFRESH_REUSE_GRACE_SECONDS); several instances on one iso share the same data (like two pods).
 */
export async function startConsumerAuthForTest(
  iso: TestIsolation,
  opts: { env?: Record<string, string>; listen?: boolean; logDestination?: LoggerOptions["destination"] } = {},
): Promise<ConsumerAuthForTest> {
  const env = Env.parse({ ...iso.env("consumer-auth"), PORT: "0", ...opts.env });
  await migrate(env);
  const logger = opts.logDestination
    ? createLogger({ name: "consumer-auth", level: env.LOG_LEVEL, destination: opts.logDestination })
    : undefined;
  const deps = await buildDeps(env, { logger });
  const app = createApp(deps);
  let server: Server | null = null;
  let url: string | null = null;
  if (opts.listen) {
    const s = app.listen(0, "127.0.0.1");
    server = s;
    await new Promise<void>((resolve) => s.once("listening", () => resolve()));
    url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  return {
    app,
    deps,
    url,
    async stop() {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await closeDeps(deps);
    },
  };
}
