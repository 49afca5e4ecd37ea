import { createHttpApp, noStore, trustProxySetting } from "@authplane/service-kit";
import { corsEcho } from "./cors.js";
import type { Express } from "express";
import { createCtx } from "./context.js";
import type { AppDeps } from "./deps.js";
import { demoRouter } from "./demo/router.js";
import { wrappedErrorFormat } from "./errors.js";
import { CLIENT_API_PATHS, clientApiRouter } from "./routes/client-api.js";
import { serverApiRouter } from "./routes/server-api.js";

export type { AppDeps } from "./deps.js";

/** The HTTP app: client API (publishable key, CORS) and server API (secret key), both at the root. */
export function createApp(deps: AppDeps): Express {
  const { app, finish } = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustProxy: trustProxySetting(deps.env.TRUST_PROXY),
    // A 400 for a hostile or unreadable body must be readable by the page too.
    beforeBody: [{ path: [...CLIENT_API_PATHS], handler: corsEcho }],
    readiness: {
      postgres: () => deps.pool.query("SELECT 1"),
      redis: () => deps.redis.ping(),
      nats: () => deps.nats.nc.flush(),
    },
  });
  if (deps.env.DEMO_ENABLED) app.use(demoRouter(deps));
  const ctx = createCtx(deps);
  // Registration/authentication tokens (rtn_/atn_) and credentials: never cached.
  app.use(noStore);
  app.use(clientApiRouter(ctx));
  app.use(serverApiRouter(ctx));
  return finish(wrappedErrorFormat);
}
