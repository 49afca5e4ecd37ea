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

test("an `after` hook runs in its migration's transaction: its writes commit with it, its failure rolls it back", async () => {
  const dir = await migrationsDir();
  const schema = iso.schema("mig3");
  await expect(
    runMigrations({
      databaseUrl: iso.databaseUrl,
      schema,
      migrationsDir: dir,
      after: {
        "20250102000000_more": async (client) => {
          await client.query(`INSERT INTO things (id, n) VALUES ('a', 1)`);
          throw new Error("hook failed");
        },
      },
    }),
  ).rejects.toThrow(/20250102000000_more failed: hook failed/);
  const client = new pg.Client({ connectionString: iso.databaseUrl });
  await client.connect();
  try {
    const cols = await client.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'things'`,
      [schema],
    );
    expect(cols.rows.map((r) => r.column_name)).toEqual(["id"]); // the ALTER was rolled back with the hook
    const applied = await runMigrations({
      databaseUrl: iso.databaseUrl,
      schema,
      migrationsDir: dir,
      after: { "20250102000000_more": async (c) => void (await c.query(`INSERT INTO things (id, n) VALUES ('b', 2)`)) },
    });
    expect(applied.applied).toEqual(["20250102000000_more"]);
    const rows = await client.query(`SELECT id, n FROM "${schema}"."things"`);
    expect(rows.rows).toEqual([{ id: "b", n: 2 }]);
  } finally {
    await client.end();
  }
});
