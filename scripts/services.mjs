// The services `npm start` runs, with their dev ports (../shared/DESIGN.md).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const SERVICES = [
  { name: "admin-key", port: 4002 },
  { name: "consumer-auth", port: 4001 },
  { name: "otp-delivery", port: 4003 },
  { name: "webauthn-credential", port: 4004 },
]
  .map((s) => ({ ...s, dir: path.join(root, "services", s.name) }))
  .filter((s) => existsSync(path.join(s.dir, "dist", "main.js")));

export const GATEWAY = { name: "gateway", port: 8080, dir: path.join(root, "infra", "gateway") };

/**
 * The tracing preload every service and the gateway start with (`node --import …`): it loads the
 * OpenTelemetry SDK only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) is set.
 */
export const TRACING_PRELOAD = path.join(root, "packages", "service-kit", "dist", "tracing-preload.js");
