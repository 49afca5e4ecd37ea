import { clientIpGroup, consumerErrorFormat, createHttpApp, noStore, trustProxySetting } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import { keysRouter } from "./routes/keys.js";
import { operatorRouter } from "./routes/operator.js";
import { settingsRouter } from "./routes/settings.js";

export type { AppDeps } from "./deps.js";

/** The HTTP app: operator API and the organization's Admin API, seed 000 error format. */
export function createApp(deps: AppDeps): Express {
  const { app, finish } = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustProxy: trustProxySetting(deps.env.TRUST_PROXY),
    readiness: {
      postgres: () => deps.pool.query("SELECT 1"),
      redis: () => deps.redis.ping(),
      nats: () => deps.nats.nc.flush(),
    },
  });
  // Every Admin/operator answer is configuration, and some carry new keys: never cached.
  app.use("/api/v1", noStore);
  // Per-IP limit before authentication, so that guessing keys or the operator token is throttled.
  app.use("/api/v1", async (req, _res, next) => {
    await deps.limits.perIp.consume(clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX));
    next();
  });
  // Before the operator router: `current` is not an organization id.
  app.use("/api/v1/organizations/current/settings", settingsRouter(deps));
  app.use("/api/v1/organizations", operatorRouter(deps));
  app.use("/api/v1/keys", keysRouter(deps));
  return finish(consumerErrorFormat);
}
