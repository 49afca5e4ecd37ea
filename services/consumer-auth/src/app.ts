import { consumerErrorFormat, createHttpApp, noStore, trustProxySetting } from "@authplane/service-kit";
import { type Express, Router } from "express";
import { demoRouter } from "./demo/router.js";
import type { AppDeps } from "./deps.js";
import { limitByIp } from "./http/auth.js";
import { BROWSER_PATHS, browserCorsEcho, browserPreflight } from "./http/cors.js";
import { externalRouter } from "./routes/external.js";
import { guestRouter } from "./routes/guest.js";
import { introspectRouter } from "./routes/introspect.js";
import { jwksRouter } from "./routes/jwks.js";
import { logoutRouter } from "./routes/logout.js";
import { otpRouter } from "./routes/otp.js";
import { refreshRouter } from "./routes/refresh.js";

/** The POST endpoints that check `X-Publishable-Key` with requirePublishableKey right after the per-IP limit. */
const KEYED_PATHS = ["/guest", "/otp/request", "/otp/verify", "/external/exchange", "/refresh"] as const;

/** The consumer-auth HTTP app. Every route lives under /api/v1/auth except the JWKS. */
export function createApp(deps: AppDeps): Express {
  const { app, finish } = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    trustProxy: trustProxySetting(deps.env.TRUST_PROXY),
    // A 400 for a hostile or unreadable body must be readable by the page too.
    beforeBody: [{ path: BROWSER_PATHS.map((p) => `/api/v1/auth${p}`), handler: browserCorsEcho }],
    readiness: {
      postgres: () => deps.prisma.$queryRaw`SELECT 1`,
      redis: () => deps.redis.ping(),
      nats: () => deps.nc.flush(),
    },
  });
  app.use(jwksRouter(deps));
  const auth = Router();
  // Tokens, exchange codes and sessions: no browser, proxy or CDN may keep a copy.
  auth.use(noStore);
  // Gateway/internal endpoints first, under their own per-IP budget (a gateway that forwards no
  // client address is one client; RATE_LIMIT_GATEWAY_IP_PER_MINUTE), taken before any token
  // verification or key lookup; keys then take their key budget before the lookup.
  // /check takes that limit, its key's budget and the revocation read in one Redis round trip.
  auth.use("/introspect", limitByIp(deps, "gateway"));
  auth.use("/check", deps.requestGate.check());
  auth.use(introspectRouter(deps));
  // CORS for the endpoints customers' pages call: preflights are answered before the per-IP
  // limit (no key, no state, nothing to protect); the actual request's Origin is echoed first so
  // that 401/429/503 stay readable, and checked against the organization once its key is known.
  auth.options(BROWSER_PATHS, browserPreflight);
  auth.use(BROWSER_PATHS, browserCorsEcho);
  // The per-IP limit; on the endpoints behind requirePublishableKey also the key's budget, in the
  // same Redis round trip (KEYED_PATHS must list exactly those: a key budget taken here is not
  // taken again by the key check).
  auth.use(deps.requestGate.publicEndpoints(KEYED_PATHS));
  auth.use(guestRouter(deps));
  auth.use(otpRouter(deps));
  auth.use(externalRouter(deps));
  auth.use(refreshRouter(deps));
  auth.use(logoutRouter(deps));
  app.use("/api/v1/auth", auth);
  if (deps.env.DEMO_ENABLED) app.use(demoRouter(deps));
  return finish(consumerErrorFormat);
}
