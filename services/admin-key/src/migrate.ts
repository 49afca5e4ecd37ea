import { fileURLToPath } from "node:url";
import { loadEnvOrExit, runMigrations, runMigrationsCommand } from "@authplane/service-kit";
import { CliEnv } from "./env.js";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

/** Applies admin-key's migrations to its schema (safe when several instances start at once). */
export async function migrate(databaseUrl: string, schema: string, log?: (msg: string) => void): Promise<string[]> {
  const { applied } = await runMigrations({ databaseUrl, schema, migrationsDir: MIGRATIONS_DIR, log });
  return applied;
}

// `node dist/migrate.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMigrationsCommand("admin-key", loadEnvOrExit(CliEnv), MIGRATIONS_DIR);
}
