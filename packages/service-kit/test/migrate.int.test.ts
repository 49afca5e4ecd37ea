import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { runMigrations } from "../src/migrate.js";
import { createTestIsolation } from "../src/testing/index.js";

const iso = createTestIsolation();
afterAll(() => iso.cleanup());

async function migrationsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "mig-"));
  await mkdir(path.join(dir, "20250101000000_init"));
  await writeFile(path.join(dir, "20250101000000_init", "migration.sql"), 'CREATE TABLE "things" ("id" TEXT PRIMARY KEY);');
  await mkdir(path.join(dir, "20250102000000_more"));
  await writeFile(path.join(dir, "20250102000000_more", "migration.sql"), 'ALTER TABLE "things" ADD COLUMN "n" INTEGER;');
  return dir;
}

test("applies each migration once, even when two runners start at the same moment", async () => {
  const dir = await migrationsDir();
  const schema = iso.schema("mig");
  const [a, b] = await Promise.all([
    runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir }),
    runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir }),
  ]);
  expect([...a.applied, ...b.applied].sort()).toEqual(["20250101000000_init", "20250102000000_more"]);
  const again = await runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir });
  expect(again.applied).toEqual([]);

  const client = new pg.Client({ connectionString: iso.databaseUrl });
  await client.connect();
  const rows = await client.query(
    `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "${schema}"."_prisma_migrations" ORDER BY migration_name`,
  );
  await client.end();
  expect(rows.rows).toHaveLength(2);
  expect(rows.rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(rows.rows[0].finished_at).toBeInstanceOf(Date);
});

test("refuses a migration edited after it was applied", async () => {
  const dir = await migrationsDir();
  const schema = iso.schema("mig2");
  await runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir });
  await writeFile(path.join(dir, "20250101000000_init", "migration.sql"), 'CREATE TABLE "things" ("id" TEXT);');
  await expect(runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir })).rejects.toThrow(/checksum mismatch/);
});
