import { fileURLToPath } from "node:url";
import { loadEnvOrExit, runMigrations, runMigrationsCommand } from "@authplane/service-kit";
import { Env } from "./env.js";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

/** Applies this service's migrations to its own schema (safe to run concurrently). */
export async function migrate(env: Pick<Env, "DATABASE_URL" | "DATABASE_SCHEMA">, log?: (msg: string) => void): Promise<string[]> {
  const { applied } = await runMigrations({
    databaseUrl: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    migrationsDir: MIGRATIONS_DIR,
    log,
  });
  return applied;
}

// `node dist/migrate.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMigrationsCommand("webauthn-credential", loadEnvOrExit(Env), MIGRATIONS_DIR);
}
