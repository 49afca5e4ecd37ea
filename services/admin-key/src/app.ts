import { createServiceApp, mount, noStore, type OpenApiDocument, serviceOpenApi } from "@authplane/service-kit";
import type { Express } from "express";
import { dashboardEndpoints, mountDashboard } from "./dashboard/index.js";
import type { AppDeps } from "./deps.js";
import { adminApiEndpoints } from "./routes/admin-api.js";
import { adminAuthenticators, adminLimits } from "./routes/auth.js";
import { operatorApiEndpoints } from "./routes/operator-api.js";

export type { AppDeps } from "./deps.js";

/** This service's OpenAPI 3.1 document, generated from the endpoint declarations. */
export function adminKeyOpenApi(): OpenApiDocument {
  return serviceOpenApi(
    {
      title: "authplane admin (admin-key)",
      version: "1",
      description:
        "The operator API (organizations, with the operator token) and each organization's Admin API (its keys and settings, " +
        'with its secret key, in that key\'s mode). Errors are seed 000\'s `{"error": code, "message"?}`.',
      tags: [
        { name: "Operator API", description: "The platform operator: `Authorization: Bearer <OPERATOR_TOKEN>`." },
        { name: "Admin API", description: "An organization's backend: `Authorization: Bearer sk_…`." },
        { name: "Dashboard", description: "The web console (HTML pages and forms at /dashboard/, session cookie): see the README." },
      ],
    },
    [...adminApiEndpoints, ...operatorApiEndpoints, ...dashboardEndpoints],
  );
}

/** The HTTP app: operator API and the organization's Admin API (seed 000 error format), and the web console at /dashboard/. */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    deps,
    infra: { pool: deps.pool, redis: deps.redis, nc: deps.nats.nc },
    document: adminKeyOpenApi,
    routes(app) {
      // Every Admin/operator answer is configuration, and some carry new keys: never cached.
      app.use("/api/v1", noStore);
      const wiring = { deps, authenticators: adminAuthenticators(deps), limits: adminLimits(deps) };
      // Before the operator API's /organizations/{id}: `current` is not an organization id.
      mount(app, adminApiEndpoints, wiring);
      mount(app, operatorApiEndpoints, wiring);
      // The web console: HTML pages, its own headers and error pages (see src/dashboard/).
      mountDashboard(app, deps);
    },
  });
}
