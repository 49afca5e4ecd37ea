import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPgPool, runMigrations } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { MIGRATIONS_DIR } from "../src/migrate.js";
import { startWebauthnForTest } from "../src/testing.js";
import { UsernameHasher } from "../src/usernames.js";
import { type AdminForTest, startAdmin } from "./support/admin.js";
import { RP, basicSk } from "./support/harness.js";

/**
 * Issue 8 item 4: a database from before usernames were hashed (clear `user_handle` on each
 * credential) is converted at start-up: hashes in user_accounts, the clear column dropped.
 */
const iso = createTestIsolation();
let admin: AdminForTest;
let svc: Awaited<ReturnType<typeof startWebauthnForTest>> | undefined;
let oldDir: string;

afterAll(async () => {
  await svc?.stop();
  await admin?.stop();
  await iso.cleanup();
  if (oldDir) rmSync(oldDir, { recursive: true, force: true });
});

test("existing clear usernames become keyed hashes, case-folded; the clear column is gone", async () => {
  admin = await startAdmin(iso);
  const org = await admin.createOrganization({ name: "Legacy", webauthn: RP });
  const env = iso.env("webauthn-credential");
  // The schema as it was: only the first migration.
  oldDir = mkdtempSync(path.join(tmpdir(), "webauthn-old-migrations-"));
  cpSync(path.join(MIGRATIONS_DIR, "20261122040000_init"), path.join(oldDir, "20261122040000_init"), { recursive: true });
  await runMigrations({ databaseUrl: env.DATABASE_URL as string, schema: env.DATABASE_SCHEMA as string, migrationsDir: oldDir });
  const client = createPgPool(env.DATABASE_URL as string, env.DATABASE_SCHEMA as string, 1);
  try {
    const rows: Array<[string, string, string | null, string]> = [
      // [credential id, user id, clear handle, created_at]
      ["ctl_01A", "u-alice", "Alice", "2026-01-01T00:00:00Z"],
      ["ctl_01B", "u-alice-2", "alice", "2026-02-01T00:00:00Z"], // same name once folded, later user: loses it
      ["ctl_01C", "u-renamed", "old-name", "2026-01-05T00:00:00Z"],
      ["ctl_01D", "u-renamed", "New-Name", "2026-03-01T00:00:00Z"], // most recent name wins
      ["ctl_01E", "u-anon", null, "2026-01-07T00:00:00Z"],
    ];
    for (const [id, userId, handle, at] of rows) {
      await client.query(
        `INSERT INTO credentials (id, organization_id, mode, webauthn_id, public_key, aaguid, name, is_backup_eligible, is_backed_up,
           is_uv_initialized, transports, user_id, user_handle, created_at)
         VALUES ($1, $2, 'test', $1, '\\x00', '00000000-0000-0000-0000-000000000000', 'Passkey', false, false, true, '{}', $3, $4, $5)`,
        [id, org.organization.id, userId, handle, at],
      );
    }
  } finally {
    await client.end();
  }

  svc = await startWebauthnForTest(iso);
  const app = svc.app;
  const find = async (user: Record<string, string>) => {
    const r = await supertest(app).post("/credential/find").set("Authorization", basicSk(org.keys.secret.test)).send({ user });
    expect(r.status).toBe(200);
    return (r.body.result.data as Array<{ id: string }>).map((c) => c.id);
  };
  expect(await find({ username: "ALICE" })).toEqual(["ctl_01A"]);
  expect(await find({ id: "u-alice-2" })).toEqual(["ctl_01B"]); // still there, by id
  expect(await find({ handle: "new-name" })).toEqual(["ctl_01C", "ctl_01D"]);
  expect(await find({ handle: "old-name" })).toEqual([]);
  expect(await find({ id: "u-anon" })).toEqual(["ctl_01E"]);

  const columns = await svc.deps.pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'credentials'`,
    [env.DATABASE_SCHEMA],
  );
  expect(columns.rows.map((c) => c.column_name)).not.toContain("user_handle");
  const accounts = await svc.deps.prisma.userAccount.findMany({ orderBy: { userId: "asc" } });
  expect(accounts.map((a) => [a.userId, a.usernameHash === null])).toEqual([
    ["u-alice", false],
    ["u-alice-2", true],
    ["u-anon", true],
    ["u-renamed", false],
  ]);
  const scope = { organizationId: org.organization.id, mode: "test" };
  const h = new UsernameHasher(svc.deps.env.USERNAME_HASH_SECRET);
  expect(accounts.find((a) => a.userId === "u-alice")?.usernameHash).toBe(h.hash(scope, "alice"));
  expect(accounts.find((a) => a.userId === "u-renamed")?.usernameHash).toBe(h.hash(scope, "NEW-NAME"));
});
