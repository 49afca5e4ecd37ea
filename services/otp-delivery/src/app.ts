import {
  consumerErrorFormat,
  createHttpApp,
  docsEndpoints,
  lazyDocument,
  mount,
  noStore,
  type OpenApiDocument,
  openApiDocument,
  operationalEndpoints,
  trustProxySetting,
} from "@authplane/service-kit";
import type { Express } from "express";
import type { AppDeps } from "./deps.js";
import type { Env } from "./env.js";
import { devOutboxEndpoints } from "./routes/dev-outbox.js";

export type { AppDeps } from "./deps.js";

/** The dev outbox is served only with the dev transport outside production. */
export function devOutboxEnabled(env: Pick<Env, "DELIVERY_TRANSPORT" | "NODE_ENV">): boolean {
  return env.DELIVERY_TRANSPORT === "dev" && env.NODE_ENV !== "production";
}

/** This service's OpenAPI 3.1 document (the dev outbox only when it is mounted). */
export function otpDeliveryOpenApi(opts: { devOutbox: boolean }): OpenApiDocument {
  return openApiDocument(
    {
      title: "authplane OTP delivery (otp-delivery)",
      version: "1",
      description:
        "Sends the one-time codes consumer-auth requests (over NATS, not HTTP). Its HTTP side is health, metrics and, in " +
        'development, the outbox of messages the dev transport stored. Errors are seed 000\'s `{"error": code, "message"?}`.',
      tags: [{ name: "Development", description: "Only with DELIVERY_TRANSPORT=dev outside production." }],
    },
    [...(opts.devOutbox ? devOutboxEndpoints : []), ...operationalEndpoints, ...docsEndpoints],
  );
}

/** HTTP side: /healthz, /readyz, /openapi.json, /docs, and /dev/outbox only with the dev transport outside production. */
export function createApp(deps: AppDeps): Express {
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
  const devOutbox = devOutboxEnabled(env);
  const document = lazyDocument(() => otpDeliveryOpenApi({ devOutbox }));
  mount(app, docsEndpoints, { deps: { document }, authenticators: {}, limits: {} });
  if (devOutbox) {
    // The dev outbox shows OTP codes: never cached.
    app.use("/dev/outbox", noStore);
    mount(app, devOutboxEndpoints, { deps, authenticators: {}, limits: {} });
  }
  return finish(consumerErrorFormat);
}
