import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { assertSchemaName } from "./postgres.js";

export interface MigrateOptions {
  databaseUrl: string;
  /** The service's own Postgres schema; created if missing. */
  schema: string;
  /** Folder with Prisma-format migrations: `<timestamp>_<name>/migration.sql`. */
  migrationsDir: string;
  log?: (msg: string) => void;
  /**
   * Code to run right after a migration's SQL, in the same transaction, keyed by migration name:
   * data migrations that need the application (e.g. an HMAC with a secret from the environment).
   * The client's search_path is the service's schema. If it throws, the migration rolls back.
   */
  after?: Readonly<Record<string, MigrationHook>>;
}

/** See `MigrateOptions.after`. */
export type MigrationHook = (client: pg.ClientBase, log: (msg: string) => void) => Promise<void>;

/**
 * Applies pending migrations, recording them in a `_prisma_migrations` table of Prisma's exact
 * shape (same checksum: SHA-256 of migration.sql), so `prisma migrate deploy` accepts the history
 * where its engine is available. A session-level advisory lock per schema makes concurrent starts
 * safe: the second instance waits, then finds nothing to do. Each migration runs in a transaction.
 */
export async function runMigrations(opts: MigrateOptions): Promise<{ applied: string[] }> {
  assertSchemaName(opts.schema);
  const log = opts.log ?? (() => {});
  const dirs = (await readdir(opts.migrationsDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const client = new pg.Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`authplane:migrate:${opts.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"`);
    await client.query(`SET search_path TO "${opts.schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const done = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const byName = new Map(done.rows.map((r) => [r.migration_name, r]));
    for (const name of dirs) {
      const sql = await readFile(path.join(opts.migrationsDir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      const prior = byName.get(name);
      if (prior?.finished_at) {
        if (prior.checksum !== checksum) throw new Error(`migration ${name} was changed after it was applied (checksum mismatch)`);
        continue;
      }
      if (prior && !prior.finished_at) throw new Error(`migration ${name} failed earlier; resolve it by hand before continuing`);
      const id = randomUUID();
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await opts.after?.[name]?.(client, log);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [id, checksum, name],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${name} failed: ${(err as Error).message}`);
      }
      applied.push(name);
      log(`applied migration ${name} in schema ${opts.schema}`);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock_all()").catch(() => {});
    await client.end().catch(() => {});
  }
  return { applied };
}

/**
 * The body of a service's `node dist/migrate.js`: applies its migrations, prints what it did
 * prefixed with the service name, and exits 0, or 1 with the reason.
 */
export function runMigrationsCommand(
  service: string,
  env: { DATABASE_URL: string; DATABASE_SCHEMA: string },
  migrationsDir: string,
  after?: MigrateOptions["after"],
): void {
  const log = (msg: string) => process.stdout.write(`${service}: ${msg}\n`);
  runMigrations({ databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, migrationsDir, log, after }).then(
    ({ applied }) => {
      log(`${applied.length} migration(s) applied`);
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`${service}: migrations failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
