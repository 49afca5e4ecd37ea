import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventType, KeyVerifyReply, OrgGetReply } from "@authplane/contracts";
import { createLogger, KeyVerifier, runMigrations } from "@authplane/service-kit";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import pg from "pg";
import { request } from "./support/harness.js";
import { type AdminKeyTestHandle, startAdminKeyForTest } from "../src/testing.js";

/**
 * Security review: settings are per (organization, mode). A test key — often shared with CI and
 * developer machines — must not change live token lifetimes or the live relying party.
 */
const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let nc: NatsConnection;
let verifier: KeyVerifier;

beforeAll(async () => {
  admin = await startAdminKeyForTest(iso);
  nc = await connect({ servers: iso.natsUrl });
  verifier = new KeyVerifier({ nc, subjects: iso.subjects, logger: createLogger({ name: "caller", level: "silent" }) });
  verifier.start();
  await verifier.ready();
});
afterAll(async () => {
  verifier?.stop();
  await nc?.close();
  await admin?.stop();
  await iso.cleanup();
});

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const SETTINGS = "/api/v1/organizations/current/settings";
const DEFAULTS = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 2592000,
  sessionLifetimeSeconds: 2592000,
  webauthn: null,
  allowedOrigins: [],
  smsAllowedCountries: [],
};
const SHOP = { rpId: "shop.example", rpName: "Shop", origins: ["https://shop.example"], requireUserVerification: false };
const EVIL = { rpId: "evil.example", rpName: "Evil", origins: ["https://evil.example"], requireUserVerification: false };

/** keys.v1.verify asked directly (no cache). */
async function verifyReply(key: string): Promise<KeyVerifyReply> {
  const msg = await nc.request(iso.subjects.keysVerify, JSON.stringify({ key }), { timeout: 2000 });
  return KeyVerifyReply.parse(msg.json());
}
async function settingsOf(key: string) {
  const reply = await verifyReply(key);
  if (!reply.valid) throw new Error("key not valid");
  return reply.settings;
}

describe("a secret key changes only its own mode's settings", () => {
  it("sk_test_: test settings change; live settings and a live key's keys.v1.verify reply do not", async () => {
    const org = await admin.createOrganization({ webauthn: SHOP });
    const live = { ...DEFAULTS, webauthn: SHOP };
    const patched = await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.test))
      .send({ accessTokenTtlSeconds: 120, refreshTokenTtlSeconds: 31_536_000, webauthn: EVIL })
      .expect(200);
    const test = {
      accessTokenTtlSeconds: 120,
      refreshTokenTtlSeconds: 31_536_000,
      sessionLifetimeSeconds: 2592000,
      webauthn: EVIL,
      allowedOrigins: [],
      smsAllowedCountries: [],
    };
    expect(patched.body).toEqual({ settings: test });

    expect((await request(admin.app).get(SETTINGS).set(bearer(org.keys.secret.live)).expect(200)).body).toEqual({ settings: live });
    expect((await request(admin.app).get(SETTINGS).set(bearer(org.keys.secret.test)).expect(200)).body).toEqual({ settings: test });
    expect(await settingsOf(org.keys.publishable.live)).toEqual(live);
    expect(await settingsOf(org.keys.secret.live)).toEqual(live);
    expect(await settingsOf(org.keys.publishable.test)).toEqual(test);

    // Clearing the relying party with the test key leaves the live one in place.
    await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.test)).send({ webauthn: null }).expect(200);
    expect((await settingsOf(org.keys.publishable.live)).webauthn).toEqual(SHOP);
    expect((await settingsOf(org.keys.publishable.test)).webauthn).toBeNull();
  });

  it("sk_live_: live settings change; test settings and a test key's keys.v1.verify reply do not", async () => {
    const org = await admin.createOrganization();
    await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.live))
      .send({ accessTokenTtlSeconds: 900, webauthn: SHOP })
      .expect(200);
    const live = { ...DEFAULTS, accessTokenTtlSeconds: 900, webauthn: SHOP };
    expect((await request(admin.app).get(SETTINGS).set(bearer(org.keys.secret.test)).expect(200)).body).toEqual({ settings: DEFAULTS });
    expect((await request(admin.app).get(SETTINGS).set(bearer(org.keys.secret.live)).expect(200)).body).toEqual({ settings: live });
    expect(await settingsOf(org.keys.publishable.test)).toEqual(DEFAULTS);
    expect(await settingsOf(org.keys.secret.test)).toEqual(DEFAULTS);
    expect(await settingsOf(org.keys.publishable.live)).toEqual(live);
  });

  it("the TTL pair is validated within the mode: a test refresh TTL shorter than the live access TTL is fine", async () => {
    const org = await admin.createOrganization();
    await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.live))
      .send({ accessTokenTtlSeconds: 86_400, refreshTokenTtlSeconds: 86_400 })
      .expect(200);
    await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.test))
      .send({ accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 300 })
      .expect(200);
    const bad = await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.test))
      .send({ refreshTokenTtlSeconds: 300, accessTokenTtlSeconds: 600 });
    expect(bad.status).toBe(400);
    expect((await settingsOf(org.keys.secret.live)).refreshTokenTtlSeconds).toBe(86_400);
  });

  it("organizations.v1.settings_updated carries the changed mode in its envelope and names the fields", async () => {
    const org = await admin.createOrganization();
    const seen: Array<{ mode: string | null; organizationId: string; data: Record<string, unknown> }> = [];
    const sub: Subscription = nc.subscribe(iso.subjects.event(EventType.organizationSettingsUpdated), {
      callback: (_e, m) => {
        seen.push(m.json());
      },
    });
    await nc.flush();
    try {
      await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.test)).send({ accessTokenTtlSeconds: 300 }).expect(200);
      await eventually(async () => seen.some((e) => e.organizationId === org.organization.id), 3000);
      await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.live)).send({ webauthn: SHOP }).expect(200);
      await eventually(async () => seen.filter((e) => e.organizationId === org.organization.id).length === 2, 3000);
    } finally {
      sub.unsubscribe();
    }
    const mine = seen.filter((e) => e.organizationId === org.organization.id);
    expect(mine[0]).toMatchObject({
      mode: "test",
      data: { mode: "test", fields: ["accessTokenTtlSeconds"], settings: { ...DEFAULTS, accessTokenTtlSeconds: 300 } },
    });
    expect(mine[1]).toMatchObject({
      mode: "live",
      data: { mode: "live", fields: ["webauthn"], settings: { ...DEFAULTS, webauthn: SHOP } },
    });
  });
});

describe("a caller's KeyVerifier cache", () => {
  it("sees a test settings change within one second, and its cached live key still has the live settings", async () => {
    const org = await admin.createOrganization();
    expect((await verifier.verify(org.keys.publishable.test))?.settings.accessTokenTtlSeconds).toBe(3600);
    expect((await verifier.verify(org.keys.publishable.live))?.settings.accessTokenTtlSeconds).toBe(3600);
    const t0 = Date.now();
    await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.test)).send({ accessTokenTtlSeconds: 120 }).expect(200);
    await eventually(async () => (await verifier.verify(org.keys.publishable.test))?.settings.accessTokenTtlSeconds === 120, 1000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await verifier.verify(org.keys.publishable.live))?.settings.accessTokenTtlSeconds).toBe(3600);
  });

  it("sees a live settings change within one second, and its cached test key still has the test settings", async () => {
    const org = await admin.createOrganization();
    expect((await verifier.verify(org.keys.publishable.live))?.settings.webauthn).toBeNull();
    expect((await verifier.verify(org.keys.publishable.test))?.settings.webauthn).toBeNull();
    const t0 = Date.now();
    await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.live)).send({ webauthn: SHOP }).expect(200);
    await eventually(async () => (await verifier.verify(org.keys.publishable.live))?.settings.webauthn?.rpId === "shop.example", 1000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await verifier.verify(org.keys.publishable.test))?.settings.webauthn).toBeNull();
  });
});

describe("operator view and orgs.v1.get", () => {
  it("POST /api/v1/organizations with webauthn sets the relying party of both modes; GET shows both modes", async () => {
    const auth = bearer(admin.operatorToken);
    const created = await request(admin.app).post("/api/v1/organizations").set(auth).send({ name: "Both", webauthn: SHOP }).expect(201);
    const both = { live: { ...DEFAULTS, webauthn: SHOP }, test: { ...DEFAULTS, webauthn: SHOP } };
    expect(created.body.organization).toMatchObject({ settings: both.live, settingsByMode: both });
    const keys = created.body.keys as { secret: { live: string; test: string } };
    await request(admin.app).patch(SETTINGS).set(bearer(keys.secret.test)).send({ accessTokenTtlSeconds: 60, webauthn: null }).expect(200);
    const got = await request(admin.app).get(`/api/v1/organizations/${created.body.organization.id}`).set(auth).expect(200);
    const test = { ...DEFAULTS, accessTokenTtlSeconds: 60 };
    expect(got.body.organization).toMatchObject({ settings: both.live, settingsByMode: { live: both.live, test } });
    const list = await request(admin.app).get("/api/v1/organizations").set(auth).expect(200);
    expect(list.body.organizations.find((o: { id: string }) => o.id === created.body.organization.id)).toMatchObject({
      settingsByMode: { live: both.live, test },
    });
  });

  it("orgs.v1.get answers the requested mode's settings, live without a mode (as before)", async () => {
    const org = await admin.createOrganization();
    await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.test)).send({ accessTokenTtlSeconds: 120 }).expect(200);
    const test = { ...DEFAULTS, accessTokenTtlSeconds: 120 };
    const ask = async (body: object) =>
      OrgGetReply.parse((await nc.request(iso.subjects.orgGet, JSON.stringify(body), { timeout: 2000 })).json());
    const id = org.organization.id;
    const organization = { id, name: org.organization.name };
    expect(await ask({ organizationId: id })).toEqual({ found: true, organization, settings: DEFAULTS });
    expect(await ask({ organizationId: id, mode: "test" })).toEqual({ found: true, organization, settings: test });
    expect(await ask({ organizationId: id, mode: "live" })).toEqual({ found: true, organization, settings: DEFAULTS });
    expect(await ask({ organizationId: id, mode: "staging" })).toEqual({ found: false });
  });
});

describe("migration 20261122060000_settings_per_mode", () => {
  it("copies each organization's existing settings into both modes", async () => {
    const migrations = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
    const dir = await mkdtemp(path.join(tmpdir(), "admin-key-mig-"));
    const schema = iso.schema("admin_key_migration");
    const db = new pg.Client({ connectionString: iso.databaseUrl });
    await db.connect();
    try {
      await cp(path.join(migrations, "20261122041000_init"), path.join(dir, "20261122041000_init"), { recursive: true });
      await runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir });
      await db.query(`INSERT INTO "${schema}"."organizations" (id, name) VALUES ('org_A', 'A'), ('org_B', 'B')`);
      await db.query(
        `INSERT INTO "${schema}"."organization_settings"
          (organization_id, access_token_ttl_seconds, refresh_token_ttl_seconds, webauthn_rp_id, webauthn_rp_name, webauthn_origins)
         VALUES ('org_A', 600, 7200, 'shop.example', 'Shop', ARRAY['https://shop.example']), ('org_B', 3600, 2592000, NULL, NULL, ARRAY[]::TEXT[])`,
      );
      await cp(migrations, dir, { recursive: true });
      const { applied } = await runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir });
      // (and any later migration)
      expect(applied[0]).toBe("20261122060000_settings_per_mode");

      const rows = await db.query(
        `SELECT organization_id, mode, access_token_ttl_seconds, refresh_token_ttl_seconds, session_lifetime_seconds, webauthn_rp_id, webauthn_rp_name, webauthn_origins
         FROM "${schema}"."organization_settings" ORDER BY organization_id, mode`,
      );
      const a = {
        access_token_ttl_seconds: 600,
        refresh_token_ttl_seconds: 7200,
        session_lifetime_seconds: 2592000, // 20261202090300_session_lifetime: the default for existing organizations
        webauthn_rp_id: "shop.example",
        webauthn_rp_name: "Shop",
        webauthn_origins: ["https://shop.example"],
      };
      const b = {
        access_token_ttl_seconds: 3600,
        refresh_token_ttl_seconds: 2592000,
        session_lifetime_seconds: 2592000,
        webauthn_rp_id: null,
        webauthn_rp_name: null,
        webauthn_origins: [],
      };
      expect(rows.rows).toEqual([
        { organization_id: "org_A", mode: "live", ...a },
        { organization_id: "org_A", mode: "test", ...a },
        { organization_id: "org_B", mode: "live", ...b },
        { organization_id: "org_B", mode: "test", ...b },
      ]);
      // One row per (organization, mode), and only the two modes.
      await expect(
        db.query(`INSERT INTO "${schema}"."organization_settings" (organization_id, mode) VALUES ('org_A', 'test')`),
      ).rejects.toThrow(/duplicate key/);
      await expect(
        db.query(`INSERT INTO "${schema}"."organization_settings" (organization_id, mode) VALUES ('org_A', 'staging')`),
      ).rejects.toThrow(/check constraint/);
      // Applying again changes nothing.
      expect((await runMigrations({ databaseUrl: iso.databaseUrl, schema, migrationsDir: dir })).applied).toEqual([]);
    } finally {
      await db.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
