import { createServiceApp, mount, noStore, type OpenApiDocument, serviceOpenApi } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import { wrappedErrorFormat } from "./routes/api.js";
import { adminApiEndpoints } from "./routes/admin-api.js";
import { passkeyAuthenticators, passkeyLimits } from "./routes/auth.js";
import { clientApiEndpoints } from "./routes/client-api.js";
import { corsEcho } from "./routes/cors.js";
import { demoEndpoints } from "./routes/demo.js";
import { serverApiEndpoints } from "./routes/server-api.js";

export type { AppDeps } from "./deps.js";

const CLIENT_API_PATHS = clientApiEndpoints.map((e) => e.spec.path);

/**
 * This service's OpenAPI 3.1 document, generated from the endpoint declarations (the demo's only
 * when it is mounted, so the document names exactly the routes the app has).
 */
export function webauthnOpenApi(opts: { demo: boolean }): OpenApiDocument {
  return serviceOpenApi(
    {
      title: "authplane passkeys (webauthn-credential)",
      version: "1",
      description:
        "Passkeys (WebAuthn) for an organization's users: the client API that browser and mobile SDKs call with the publishable key, " +
        "and the server API (seed 003) that the organization's backend calls with its secret key. Every answer is wrapped " +
        '`{"result": …, "errors": []}`; errors are `{"result": null, "errors": [{"code", "message"}]}`.',
      tags: [
        { name: "Passkeys: client API", description: "Browser and mobile SDKs, publishable key, CORS." },
        { name: "Passkeys: server API", description: "Your backend, secret key (seed 003)." },
        {
          name: "Admin API",
          description: "The dashboard (operator token + X-Organization-Id + X-Mode) or your backend (secret key): list, deactivate, stats.",
        },
      ],
    },
    [...clientApiEndpoints, ...serverApiEndpoints, ...adminApiEndpoints, ...(opts.demo ? demoEndpoints : [])],
  );
}

/** The HTTP app: client API (publishable key, CORS) and server API (secret key) at the root; the Admin API under /api/v1. */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    deps,
    // A 400 for a hostile or unreadable body must be readable by the page too.
    beforeBody: [{ path: CLIENT_API_PATHS, handler: corsEcho }],
    infra: { pool: deps.pool, redis: deps.redis, nc: deps.nats.nc },
    document: () => webauthnOpenApi({ demo: deps.env.DEMO_ENABLED }),
    errorFormat: wrappedErrorFormat,
    routes(app) {
      const wiring = { deps, authenticators: passkeyAuthenticators(deps), limits: passkeyLimits(deps) };
      if (deps.env.DEMO_ENABLED) mount(app, demoEndpoints, wiring);
      // Registration/authentication tokens (rtn_/atn_) and credentials: never cached.
      app.use(noStore);
      mount(app, clientApiEndpoints, wiring);
      mount(app, serverApiEndpoints, wiring);
      mount(app, adminApiEndpoints, wiring);
    },
  });
}
