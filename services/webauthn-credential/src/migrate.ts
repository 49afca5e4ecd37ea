import { fileURLToPath } from "node:url";
import { loadEnvOrExit, type MigrationHook, runMigrations, runMigrationsCommand } from "@authplane/service-kit";
import { Env } from "./env.js";
import { UsernameHasher } from "./usernames.js";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export type MigrateEnv = Pick<Env, "DATABASE_URL" | "DATABASE_SCHEMA" | "USERNAME_HASH_SECRET">;

/**
 * `20261202090000_user_accounts`: hashes the usernames stored in clear until then into
 * user_accounts (the next migration drops the clear column). A user whose credentials carried
 * several names (changing it used to be accepted) keeps the one of its most recent credential.
 * Names that fold to the same hash for different users (e.g. "Alice" and "alice", distinct
 * before lookups were case-insensitive) stay with the user that claimed it first (oldest
 * account); the others lose their username (sign-in by id and discoverable sign-in still work,
 * and the backend can attach it again once the conflict is resolved). Only counts are logged.
 */
export function migrationHooks(env: Pick<Env, "USERNAME_HASH_SECRET">): Record<string, MigrationHook> {
  const hasher = new UsernameHasher(env.USERNAME_HASH_SECRET);
  return {
    "20261202090000_user_accounts": async (client, log) => {
      const { rows } = await client.query<{ organization_id: string; mode: string; user_id: string; user_handle: string; since: Date }>(
        `SELECT DISTINCT ON (c.organization_id, c.mode, c.user_id) c.organization_id, c.mode, c.user_id, c.user_handle, a.created_at AS since
           FROM credentials c JOIN user_accounts a USING (organization_id, mode, user_id)
          WHERE c.user_handle IS NOT NULL
          ORDER BY c.organization_id, c.mode, c.user_id, c.created_at DESC, c.id DESC`,
      );
      const claims = new Map<string, (typeof rows)[number]>();
      let dropped = 0;
      for (const row of rows.sort((a, b) => a.since.getTime() - b.since.getTime() || a.user_id.localeCompare(b.user_id))) {
        const hash = hasher.hash({ organizationId: row.organization_id, mode: row.mode }, row.user_handle);
        const key = `${row.organization_id}|${row.mode}|${hash}`;
        if (claims.has(key)) {
          dropped++;
          continue;
        }
        claims.set(key, row);
        await client.query(`UPDATE user_accounts SET username_hash = $4 WHERE organization_id = $1 AND mode = $2 AND user_id = $3`, [
          row.organization_id,
          row.mode,
          row.user_id,
          hash,
        ]);
      }
      log(`hashed ${claims.size} username(s); ${dropped} left without a username (same name as an earlier user once case-folded)`);
    },
  };
}

/** Applies this service's migrations to its own schema (safe to run concurrently). */
export async function migrate(env: MigrateEnv, log?: (msg: string) => void): Promise<string[]> {
  const { applied } = await runMigrations({
    databaseUrl: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    migrationsDir: MIGRATIONS_DIR,
    log,
    after: migrationHooks(env),
  });
  return applied;
}

// `node dist/migrate.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const env = loadEnvOrExit(Env);
  runMigrationsCommand("webauthn-credential", env, MIGRATIONS_DIR, migrationHooks(env));
}
