import { installGracefulShutdown, loadEnvOrExit, redactConfig, serveMetrics } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

const env = loadEnvOrExit(Env);
await migrate(env);
const deps = await buildDeps(env);
deps.logger.info({ config: redactConfig(env as unknown as Record<string, unknown>) }, "starting webauthn-credential");
const app = createApp(deps);
const metricsServer = await serveMetrics({ metrics: deps.metrics, port: env.METRICS_PORT, host: env.HOST, logger: deps.logger });
const server = app.listen(env.PORT, env.HOST, () => {
  deps.logger.info({ port: env.PORT, demo: env.DEMO_ENABLED }, "webauthn-credential listening");
});
installGracefulShutdown({
  logger: deps.logger,
  server,
  graceMs: env.SHUTDOWN_GRACE_MS,
  delayMs: env.SHUTDOWN_DELAY_MS,
  closers: [
    { name: "dependencies", close: () => closeDeps(deps) },
    { name: "metrics", close: () => metricsServer.close() },
  ],
});
