import { createServiceApp, mount, noStore, type OpenApiDocument, serviceOpenApi } from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import type { Env } from "./env.js";
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
        "Sends the one-time codes consumer-auth requests (over NATS, not HTTP). Its HTTP side is health, metrics and, in " +
        'development, the outbox of messages the dev transport stored. Errors are seed 000\'s `{"error": code, "message"?}`.',
      tags: [{ name: "Development", description: "Only with DELIVERY_TRANSPORT=dev outside production." }],
    },
    opts.devOutbox ? devOutboxEndpoints : [],
  );
}

/** HTTP side: /healthz, /readyz, /openapi.json, /docs, and /dev/outbox only with the dev transport outside production. */
export function createApp(deps: AppDeps): Express {
  const devOutbox = devOutboxEnabled(deps.env);
  return createServiceApp({
    deps,
    infra: { pool: deps.pool, nc: deps.nc },
    document: () => otpDeliveryOpenApi({ devOutbox }),
    routes(app) {
      if (!devOutbox) return;
      // The dev outbox shows OTP codes: never cached.
      app.use("/dev/outbox", noStore);
      mount(app, devOutboxEndpoints, { deps, authenticators: {}, limits: {} });
    },
  });
}
