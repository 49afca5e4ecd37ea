import { createLogger, KeyVerifier } from "@authplane/service-kit";
import { captureLogs, createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { request } from "./support/harness.js";
import type { AppDeps } from "../src/deps.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";

const iso = createTestIsolation();
const logs = captureLogs();
let admin: AdminKeyTestHandle & { deps: AppDeps };
let nc: NatsConnection;
let verifier: KeyVerifier;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso, { env: { LOG_LEVEL: "debug" }, logDestination: logs.stream });
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

describe("a caller's KeyVerifier cache", () => {
  it("drops a key within one second of its revocation through the API", async () => {
    const org = await admin.createOrganization();
    const pk = org.keys.publishable.live;
    const first = await verifier.verify(pk);
    expect(first).toMatchObject({ valid: true, kind: "publishable", mode: "live" });
    // Cached: the answer does not need admin-key any more.
    const keys = await request(admin.app).get("/api/v1/keys").set(bearer(org.keys.secret.live)).expect(200);
    const pkId = keys.body.keys.find((k: { kind: string }) => k.kind === "publishable").id as string;

    const revokedAt = Date.now();
    await request(admin.app).post(`/api/v1/keys/${pkId}/revoke`).set(bearer(org.keys.secret.live)).expect(200);
    await eventually(async () => (await verifier.verify(pk)) === null, 1000, 20);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it("drops a key rotated with immediate expiry within one second", async () => {
    const org = await admin.createOrganization();
    const sk = org.keys.secret.test;
    expect(await verifier.verify(sk)).toMatchObject({ valid: true });
    const keys = await request(admin.app).get("/api/v1/keys").set(bearer(sk)).expect(200);
    const skId = keys.body.keys.find((k: { kind: string }) => k.kind === "secret").id as string;
    const t0 = Date.now();
    const rotated = await request(admin.app).post(`/api/v1/keys/${skId}/rotate`).set(bearer(sk)).send({ expiresInSeconds: 0 }).expect(201);
    await eventually(async () => (await verifier.verify(sk)) === null, 1000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await verifier.verify(rotated.body.value)).toMatchObject({ valid: true, kind: "secret", mode: "test" });
  });

  it("check() tells an unknown key from a revoked one and from a rotated key past its expiry (even one it had cached)", async () => {
    const org = await admin.createOrganization();
    const sk = org.keys.secret.test;
    expect(await verifier.check("sk_test_0123456789abcdefghijklmnopqrstuv")).toEqual({ ok: false, reason: "not_found" });
    expect(await verifier.check("not a key")).toEqual({ ok: false, reason: "not_found" });
    const created = await request(admin.app).post("/api/v1/keys").set(bearer(sk)).send({ kind: "secret" }).expect(201);
    await request(admin.app).post(`/api/v1/keys/${created.body.key.id}/revoke`).set(bearer(sk)).expect(200);
    expect(await verifier.check(created.body.value)).toEqual({ ok: false, reason: "revoked" });

    const keys = await request(admin.app).get("/api/v1/keys").set(bearer(sk)).expect(200);
    const skId = keys.body.keys.find((k: { kind: string; status: string }) => k.kind === "secret" && k.status === "active").id as string;
    await request(admin.app).post(`/api/v1/keys/${skId}/rotate`).set(bearer(sk)).send({ expiresInSeconds: 1 }).expect(201);
    const cached = await verifier.check(sk);
    expect(cached).toMatchObject({ ok: true, key: { kind: "secret", mode: "test" } });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await verifier.check(sk)).toEqual({ ok: false, reason: "expired" });
    expect(await verifier.verify(sk)).toBeNull();
  });

  it("sees new settings after organizations.v1.settings_updated", async () => {
    const org = await admin.createOrganization();
    expect((await verifier.verify(org.keys.publishable.test))?.settings.accessTokenTtlSeconds).toBe(3600);
    await request(admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set(bearer(org.keys.secret.test))
      .send({ accessTokenTtlSeconds: 120 })
      .expect(200);
    await eventually(async () => (await verifier.verify(org.keys.publishable.test))?.settings.accessTokenTtlSeconds === 120, 1000, 20);
  });
});

describe("logs", () => {
  it("contain no key, no operator token and no authorization header, even at debug level", async () => {
    const secrets: string[] = [admin.operatorToken];
    const created = await request(admin.app)
      .post("/api/v1/organizations")
      .set(bearer(admin.operatorToken))
      .send({ name: "Logged" })
      .expect(201);
    const k = created.body.keys as { publishable: Record<string, string>; secret: Record<string, string> };
    secrets.push(...Object.values(k.publishable), ...Object.values(k.secret));
    const sk = k.secret.live as string;
    await request(admin.app).get("/api/v1/keys").set(bearer(sk)).expect(200);
    const made = await request(admin.app).post("/api/v1/keys").set(bearer(sk)).send({ kind: "secret" }).expect(201);
    secrets.push(made.body.value);
    const rot = await request(admin.app).post(`/api/v1/keys/${made.body.key.id}/rotate`).set(bearer(sk)).send({}).expect(201);
    secrets.push(rot.body.value);
    await request(admin.app).post(`/api/v1/keys/${rot.body.key.id}/revoke`).set(bearer(sk)).expect(200);
    await request(admin.app).get("/api/v1/keys").set(bearer(rot.body.value)).expect(401);
    await request(admin.app)
      .get("/api/v1/keys")
      .set(bearer(k.publishable.live as string))
      .expect(403);
    await request(admin.app)
      .get("/api/v1/keys?key=" + sk)
      .set(bearer(`${sk}x`))
      .expect(401);
    await request(admin.app)
      .post("/api/v1/keys")
      .set(bearer(sk))
      .set("Content-Type", "application/json")
      .send(`{"kind": "${sk}"`)
      .expect(400);
    await request(admin.app).post("/api/v1/keys").set(bearer(sk)).send({ kind: sk }).expect(400);
    await request(admin.app).get(`/api/v1/organizations/${sk}`).set(bearer(admin.operatorToken)).expect(404);
    for (const key of [sk, k.publishable.test as string, `sk_live_${"q".repeat(32)}`]) await verifier.verify(key);
    await nc.request(iso.subjects.keysVerify, "not json", { timeout: 2000 });
    await admin.deps.relay.flush();

    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThan(5); // debug request lines were written
    expect(text).toContain('"route"');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/[ps]k_(live|test)_[0-9A-Za-z]{6,}/);
    expect(text).not.toMatch(/Bearer/i);
  });
});
