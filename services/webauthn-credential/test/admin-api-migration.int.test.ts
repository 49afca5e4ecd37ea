import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPgPool, runMigrations } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { MIGRATIONS_DIR } from "../src/migrate.js";
import { startWebauthnForTest } from "../src/testing.js";

/**
 * Issue 14: the migration adding the per-day sign-in counter (`20261202150000_admin_api`) counts
 * the sign-ins made before it that the outbox still holds (their `passkeys.v1.authenticated`
 * events), per organization, mode and UTC day; other events count nothing.
 */
const iso = createTestIsolation();
let svc: Awaited<ReturnType<typeof startWebauthnForTest>> | undefined;
let oldDir: string;

afterAll(async () => {
  await svc?.stop();
  await iso.cleanup();
  if (oldDir) rmSync(oldDir, { recursive: true, force: true });
});

const ORG = "org_01JA0000000000000000000001";
const OTHER = "org_01JA0000000000000000000002";
const DAY = 86_400_000;

test("sign-ins still in the outbox before the migration are counted per organization, mode and UTC day", async () => {
  const env = iso.env("webauthn-credential");
  // The schema as it was before the Admin API.
  oldDir = mkdtempSync(path.join(tmpdir(), "webauthn-pre-admin-migrations-"));
  for (const name of readdirSync(MIGRATIONS_DIR).filter((n) => /^\d+_/.test(n) && n < "20261202150000")) {
    cpSync(path.join(MIGRATIONS_DIR, name), path.join(oldDir, name), { recursive: true });
  }
  await runMigrations({ databaseUrl: env.DATABASE_URL as string, schema: env.DATABASE_SCHEMA as string, migrationsDir: oldDir });
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const yesterdayNoon = new Date(Date.parse(`${today}T12:00:00Z`) - DAY);
  const events: Array<[string, string | null, string | null, Date]> = [
    ["passkeys.v1.authenticated", ORG, "test", new Date(now)],
    ["passkeys.v1.authenticated", ORG, "test", new Date(now)],
    ["passkeys.v1.authenticated", ORG, "test", yesterdayNoon],
    ["passkeys.v1.authenticated", ORG, "live", new Date(now)],
    ["passkeys.v1.authenticated", OTHER, "test", new Date(now)],
    ["credentials.v1.created", ORG, "test", new Date(now)],
    ["passkeys.v1.authenticated", null, null, new Date(now)],
  ];
  const client = createPgPool(env.DATABASE_URL as string, env.DATABASE_SCHEMA as string, 1);
  try {
    let n = 0;
    for (const [type, organizationId, mode, at] of events) {
      const id = `evt_01JA${String(++n).padStart(22, "0")}`;
      const payload = { id, type, version: 1, occurredAt: at.toISOString(), organizationId, mode, data: {} };
      // Already published (the relay keeps published rows for a day), so nothing is sent again.
      await client.query(`INSERT INTO outbox_events (id, type, payload, created_at, published_at) VALUES ($1, $2, $3, $4, $4)`, [
        id,
        type,
        JSON.stringify(payload),
        at,
      ]);
    }
  } finally {
    await client.end();
  }

  svc = await startWebauthnForTest(iso, { env: { OPERATOR_TOKEN: "operator-token-of-the-migration-test-0123456789" } });
  const app = svc.app;
  const stats = (org: string, mode: string) =>
    supertest(app)
      .get("/api/v1/stats/passkeys?days=2")
      .set("Authorization", "Bearer operator-token-of-the-migration-test-0123456789")
      .set("X-Organization-Id", org)
      .set("X-Mode", mode)
      .expect(200);
  const yesterday = yesterdayNoon.toISOString().slice(0, 10);
  expect((await stats(ORG, "test")).body.days).toEqual([
    { date: yesterday, registrations: 0, verifications: 1 },
    { date: today, registrations: 0, verifications: 2 },
  ]);
  expect((await stats(ORG, "live")).body.days.map((d: { verifications: number }) => d.verifications)).toEqual([0, 1]);
  expect((await stats(OTHER, "test")).body.days.map((d: { verifications: number }) => d.verifications)).toEqual([0, 1]);
  expect(await svc.deps.prisma.passkeyDailyStat.count()).toBe(4);
});
