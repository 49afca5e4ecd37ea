import { loadEnvOrExit, redactConfig, runService } from "@authplane/service-kit";
import { createApp } from "./app.js";
import { consoleOrganization } from "./dashboard/console-org.js";
import { buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

const env = loadEnvOrExit(Env);

async function main(): Promise<void> {
  // Safe when several instances start together: the runner holds an advisory lock.
  const applied = await migrate(env.DATABASE_URL, env.DATABASE_SCHEMA);
  const deps = await buildDeps(env);
  const { logger } = deps;
  if (applied.length) logger.info({ applied }, "migrations applied");
  logger.info({ config: redactConfig(env) }, "starting admin-key");
  if (env.NODE_ENV !== "production" && env.OPERATOR_TOKEN === "dev-operator-token")
    logger.warn("OPERATOR_TOKEN is the development default; set OPERATOR_TOKEN outside development");
  // The console organization (organization admins' sign-in): created if missing, once among
  // instances, alongside serving (readiness does not wait for it). A failure does not stop the
  // service; the console tries again on first use.
  consoleOrganization(deps).catch((err: Error) =>
    logger.warn({ err: err.message }, "dashboard: console organization not ready; retried on first use"),
  );
  await runService({ service: "admin-key", env, deps, app: createApp(deps), close: () => closeDeps(deps) });
}

main().catch((err: Error) => {
  process.stderr.write(`admin-key failed to start: ${err.message}\n`);
  process.exit(1);
});
