import { consumerErrorFormat, createHttpApp, noStore, trustProxySetting } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import { devOutboxRouter } from "./routes/dev-outbox.js";

/** HTTP side: /healthz, /readyz, /metrics, and /dev/outbox only with the dev transport outside production. */
export function createApp(deps: Pick<AppDeps, "env" | "logger" | "metrics" | "prisma" | "pool" | "nc">): Express {
  const { env } = deps;
  const { app, finish } = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    readiness: {
      postgres: () => deps.pool.query("SELECT 1"),
      nats: async () => {
        if (deps.nc.isClosed()) throw new Error("nats connection closed");
        await deps.nc.flush();
      },
    },
  });
  if (env.DELIVERY_TRANSPORT === "dev" && env.NODE_ENV !== "production") {
    // The dev outbox shows OTP codes: never cached.
    app.use("/dev/outbox", noStore);
    app.use(devOutboxRouter(deps.prisma));
  }
  return finish(consumerErrorFormat);
}
