import { createLogger, loadEnvOrExit, redactConfig, runService } from "@authplane/service-kit";
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
  await runService({ service: "consumer-auth", env, deps, app: createApp(deps), close: () => closeDeps(deps) });
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "consumer-auth failed to start");
  logger.flush?.();
  process.exit(1);
}
