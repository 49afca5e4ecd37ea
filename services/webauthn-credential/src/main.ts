import { loadEnvOrExit, redactConfig, runService } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

const env = loadEnvOrExit(Env);
await migrate(env);
const deps = await buildDeps(env);
deps.logger.info({ config: redactConfig(env as unknown as Record<string, unknown>) }, "starting webauthn-credential");
await runService({
  service: "webauthn-credential",
  env,
  deps,
  app: createApp(deps),
  close: () => closeDeps(deps),
  listenFields: { demo: env.DEMO_ENABLED },
});
