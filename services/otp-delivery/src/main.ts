import { createLogger, installGracefulShutdown, loadEnvOrExit, redactConfig, serveMetrics } from "@authplane/service-kit";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";
import { startOtpDelivery } from "./service.js";

const env = loadEnvOrExit(Env);
const logger = createLogger({ name: "otp-delivery", level: env.LOG_LEVEL });
logger.info({ config: redactConfig(env as unknown as Record<string, unknown>) }, "starting");

try {
  await migrate(env, (m) => logger.info(m));
  const running = await startOtpDelivery(env, { logger });
  const metricsServer = await serveMetrics({ metrics: running.deps.metrics, port: env.METRICS_PORT, host: env.HOST, logger });
  installGracefulShutdown({
    logger,
    server: running.server,
    closers: [...running.closers, { name: "metrics", close: () => metricsServer.close() }],
    graceMs: env.SHUTDOWN_GRACE_MS,
    delayMs: env.SHUTDOWN_DELAY_MS,
  });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "otp-delivery failed to start");
  logger.flush?.();
  process.exit(1);
}
