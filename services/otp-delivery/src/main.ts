import { createLogger, loadEnvOrExit, redactConfig, runService } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { buildDeps, startDelivery } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

const env = loadEnvOrExit(Env);
const logger = createLogger({ name: "otp-delivery", level: env.LOG_LEVEL });
logger.info({ config: redactConfig(env as unknown as Record<string, unknown>) }, "starting");

try {
  await migrate(env, (m) => logger.info(m));
  const deps = await buildDeps(env, { logger });
  const { closers } = await startDelivery(deps);
  await runService({
    service: "otp-delivery",
    env,
    deps,
    app: createApp(deps),
    closers,
    listenFields: { transport: env.DELIVERY_TRANSPORT },
  });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "otp-delivery failed to start");
  logger.flush?.();
  process.exit(1);
}
