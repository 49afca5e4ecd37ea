import { createServiceApp, mount, noStore, type OpenApiDocument, serviceOpenApi } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import type { Env } from "./env.js";
import { adminApiEndpoints } from "./routes/admin-api.js";
import { otpAuthenticators, otpLimits } from "./routes/auth.js";
import { devOutboxEndpoints } from "./routes/dev-outbox.js";

export type { AppDeps } from "./deps.js";

/** The dev outbox is served only with the dev transport outside production. */
function devOutboxEnabled(env: Pick<Env, "DELIVERY_TRANSPORT" | "NODE_ENV">): boolean {
  return env.DELIVERY_TRANSPORT === "dev" && env.NODE_ENV !== "production";
}

/** This service's OpenAPI 3.1 document (the dev outbox only when it is mounted). */
export function otpDeliveryOpenApi(opts: { devOutbox: boolean }): OpenApiDocument {
  return serviceOpenApi(
    {
      title: "authplane OTP delivery (otp-delivery)",
      version: "1",
      description:
        "Sends the one-time codes consumer-auth requests (over NATS, not HTTP). Its HTTP side is health, metrics, the " +
        "operator's view of deliveries (Admin API, for the dashboard) and, in development, the outbox of messages the dev " +
        'transport stored. Errors are seed 000\'s `{"error": code, "message"?}`.',
      tags: [
        {
          name: "Admin API",
          description: "The operator: `Authorization: Bearer <OPERATOR_TOKEN>` + `X-Organization-Id` + `X-Mode`.",
        },
        { name: "Development", description: "Only with DELIVERY_TRANSPORT=dev outside production." },
      ],
    },
    opts.devOutbox ? [...adminApiEndpoints, ...devOutboxEndpoints] : adminApiEndpoints,
  );
}

/**
 * HTTP side: /healthz, /readyz, /openapi.json, /docs, the Admin API (operator token) and
 * /dev/outbox only with the dev transport outside production. /readyz checks Postgres and NATS,
 * not Redis: Redis serves only the admin endpoints' rate limit (a Redis outage makes them 503),
 * and must not take the delivery service out of rotation or stall its rollouts.
 */
export function createApp(deps: AppDeps): Express {
  const devOutbox = devOutboxEnabled(deps.env);
  return createServiceApp({
    deps,
    infra: { pool: deps.pool, nc: deps.nc },
    document: () => otpDeliveryOpenApi({ devOutbox }),
    routes(app) {
      // Delivery records of an organization: never cached.
      app.use("/api/v1", noStore);
      const wiring = { deps, authenticators: otpAuthenticators(deps), limits: otpLimits(deps) };
      mount(app, adminApiEndpoints, wiring);
      if (!devOutbox) return;
      // The dev outbox shows OTP codes: never cached.
      app.use("/dev/outbox", noStore);
      mount(app, devOutboxEndpoints, wiring);
    },
  });
}
