import { createLogger, installGracefulShutdown, loadEnvOrExit, redactConfig, serveMetrics } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

const env = loadEnvOrExit(Env);
const logger = createLogger({ name: "consumer-auth", level: env.LOG_LEVEL });
logger.info({ config: redactConfig(env) }, "starting consumer-auth");

try {
  await migrate(env, (m) => logger.info(m));
  const deps = await buildDeps(env, { logger });
  const app = createApp(deps);
  const metricsServer = await serveMetrics({ metrics: deps.metrics, port: env.METRICS_PORT, host: env.HOST, logger });
  const server = app.listen(env.PORT, env.HOST, () => logger.info({ port: env.PORT }, "consumer-auth listening"));
  installGracefulShutdown({
    logger,
    server,
    graceMs: env.SHUTDOWN_GRACE_MS,
    delayMs: env.SHUTDOWN_DELAY_MS,
    closers: [
      { name: "deps", close: () => closeDeps(deps) },
      { name: "metrics", close: () => metricsServer.close() },
    ],
  });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "consumer-auth failed to start");
  logger.flush?.();
  process.exit(1);
}
