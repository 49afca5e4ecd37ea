import { createServiceApp, mount, noStore, type OpenApiDocument, serviceOpenApi } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import { ADMIN_CONSUMERS_PREFIX, ADMIN_STATS_PATH, adminEndpoints } from "./routes/admin-api.js";
import { consumerAuthenticators, consumerLimits, internalAuthenticators } from "./routes/auth.js";
import { API_PREFIX, checkEndpoint, consumerApiEndpoints, introspectEndpoint, publicEndpoints } from "./routes/consumer-api.js";
import { browserCorsEcho } from "./routes/cors.js";
import { demoEndpoints } from "./routes/demo.js";
import { jwksEndpoint } from "./routes/jwks.js";

export type { AppDeps } from "./deps.js";

/** The paths customers' pages call (their endpoints declare a CORS preflight). */
const BROWSER_PATHS = publicEndpoints.filter((e) => e.spec.preflight).map((e) => e.spec.path);

/**
 * consumer-auth's OpenAPI 3.1 document, generated from the endpoint declarations (the demo's only
 * when it is mounted, so the document names exactly the routes the app has).
 */
export function consumerAuthOpenApi(opts: { demo: boolean }): OpenApiDocument {
  return serviceOpenApi(
    {
      title: "authplane consumer API (consumer-auth)",
      version: "1",
      description:
        "Sessions for an organization's consumers (seed 000): guest sessions, one-time codes by email or SMS, external identities " +
        "vouched for by the organization's server, refresh and logout; token introspection and the gateway check; the JWKS. " +
        'Errors are `{"error": code, "message"?}`.',
      tags: [
        { name: "Consumer API", description: "Pages and apps (publishable key, CORS), the organization's server (secret key), gateways." },
        { name: "Tokens", description: "Access tokens are EdDSA JWTs; verify them with the JWKS." },
        {
          name: "Admin API",
          description:
            "Consumers, their sessions and sign-in numbers of one organization and mode: the operator token (with X-Organization-Id " +
            "and X-Mode) or the organization's secret key. Used by the dashboard.",
        },
      ],
    },
    [...consumerApiEndpoints, ...adminEndpoints, jwksEndpoint, ...(opts.demo ? demoEndpoints : [])],
  );
}

/**
 * The consumer-auth HTTP app. Every route lives under /api/v1/auth except the JWKS, the Admin API
 * (/api/v1/consumers, /api/v1/stats/consumers) and health, docs, demo.
 */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    deps,
    // A 400 for a hostile or unreadable body must be readable by the page too.
    beforeBody: [{ path: BROWSER_PATHS, handler: browserCorsEcho }],
    infra: { pool: deps.pool, redis: deps.redis, nc: deps.nc },
    readiness: { postgres: () => deps.prisma.$queryRaw`SELECT 1` },
    document: () => consumerAuthOpenApi({ demo: deps.env.DEMO_ENABLED }),
    routes(app) {
      const authenticators = consumerAuthenticators(deps);
      const internal = internalAuthenticators(deps);
      const limits = consumerLimits(deps);
      mount(app, [jwksEndpoint], { deps, authenticators, limits });
      // Tokens, exchange codes and sessions: no browser, proxy or CDN may keep a copy.
      app.use(API_PREFIX, noStore);
      // Gateway/internal endpoints: under their own per-IP budget (a gateway that forwards no client
      // address is one client; RATE_LIMIT_GATEWAY_IP_PER_MINUTE), taken before any token verification
      // or key lookup. /check takes that limit, its key's budget and the revocation read in one Redis
      // round trip. Each binds the caller with its own internalToken authenticator.
      mount(app, [introspectEndpoint], { deps, authenticators: { ...authenticators, internalToken: internal.introspect }, limits });
      mount(app, [checkEndpoint], { deps, authenticators: { ...authenticators, internalToken: internal.check }, limits });
      // The public endpoints: the per-IP limit and, behind the publishable key, the key's budget in the
      // same Redis round trip, then the key check (which does not take that budget again).
      mount(app, publicEndpoints, { deps, authenticators, limits });
      // The Admin API (operator token or secret key): consumers' data, never cached either.
      app.use([ADMIN_CONSUMERS_PREFIX, ADMIN_STATS_PATH], noStore);
      mount(app, adminEndpoints, { deps, authenticators, limits });
      if (deps.env.DEMO_ENABLED) mount(app, demoEndpoints, { deps, authenticators, limits });
    },
  });
}
