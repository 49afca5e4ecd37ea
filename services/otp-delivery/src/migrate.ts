import { fileURLToPath } from "node:url";
import { loadEnvOrExit, runMigrations, runMigrationsCommand } from "@authplane/service-kit";
import { Env } from "./env.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export async function migrate(env: Pick<Env, "DATABASE_URL" | "DATABASE_SCHEMA">, log?: (msg: string) => void): Promise<string[]> {
  const { applied } = await runMigrations({ databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, migrationsDir, log });
  return applied;
}

// `node dist/migrate.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMigrationsCommand("otp-delivery", loadEnvOrExit(Env), migrationsDir);
}
