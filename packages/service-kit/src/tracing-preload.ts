/**
 * Preload for tracing: `node --import @authplane/service-kit/tracing-preload dist/main.js`.
 *
 * The OpenTelemetry instrumentations of http, express, pg and ioredis patch those modules when
 * they are loaded, and the services are ES modules whose whole import graph is loaded before the
 * first line of main.ts runs; so the SDK has to start in a preload, before main.ts is imported.
 *
 * Off by default: unless an exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_TRACES_EXPORTER=otlp|console) this module loads
 * nothing else and the process runs exactly as without it. OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off whatever else is set.
 */
import { tracingEnabled } from "./tracing-config.js";

if (tracingEnabled(process.env)) {
  const { startTracing } = await import("./tracing-sdk.js");
  await startTracing(process.env);
}
