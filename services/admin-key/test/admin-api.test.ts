import { ApiKeyPattern, CreateOrganizationResponse, EventType } from "@authplane/contracts";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { request } from "./support/harness.js";
import type { AdminKeyTestHandle, CreatedOrganization } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let nc: NatsConnection;
useAdminKey(
  iso,
  (h) => {
    admin = h.admin;
    nc = h.nc as NatsConnection;
  },
  { nats: true },
);

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const op = () => bearer(admin.operatorToken);

async function keyIdOf(org: CreatedOrganization, secret: string, kind: "publishable" | "secret") {
  const res = await request(admin.app).get("/api/v1/keys").set(bearer(secret)).expect(200);
  const k = (res.body.keys as Array<{ id: string; kind: string; status: string }>).find((x) => x.kind === kind && x.status === "active");
  if (!k) throw new Error(`no active ${kind} key for ${org.organization.id}`);
  return k.id;
}

describe("operator API", () => {
  it("requires the operator token: none, wrong, a secret key -> 401 seed body", async () => {
    const org = await admin.createOrganization();
    for (const headers of [{}, bearer("dev-operator-token"), bearer(`${admin.operatorToken}x`), bearer(org.keys.secret.live)]) {
      const res = await request(admin.app).post("/api/v1/organizations").set(headers).send({ name: "X" });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "Authentication required" });
    }
    await request(admin.app).get("/api/v1/organizations").expect(401);
    await request(admin.app).get(`/api/v1/organizations/${org.organization.id}`).expect(401);
  });

  it("creates an organization: 201 with four keys in the seed's formats, then lists and gets it", async () => {
    const res = await request(admin.app)
      .post("/api/v1/organizations")
      .set(op())
      .send({ name: "Acme", webauthn: { rpId: "acme.example", rpName: "Acme", origins: ["https://app.acme.example"] } });
    expect(res.status).toBe(201);
    const body = CreateOrganizationResponse.parse(res.body);
    expect(body.organization).toMatchObject({
      name: "Acme",
      settings: {
        accessTokenTtlSeconds: 3600,
        refreshTokenTtlSeconds: 2592000,
        sessionLifetimeSeconds: 2592000,
        webauthn: { rpId: "acme.example", rpName: "Acme", origins: ["https://app.acme.example"] },
      },
    });
    expect(body.keys.publishable.live).toMatch(/^pk_live_[0-9A-Za-z]{32}$/);
    expect(body.keys.publishable.test).toMatch(/^pk_test_[0-9A-Za-z]{32}$/);
    expect(body.keys.secret.live).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
    expect(body.keys.secret.test).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    // Next to each secret key, the same key as the passkey server SDKs take it (they require `secret_`).
    expect(body.keys.passkeySdkSecret).toEqual({ live: `secret_${body.keys.secret.live}`, test: `secret_${body.keys.secret.test}` });

    const got = await request(admin.app).get(`/api/v1/organizations/${body.organization.id}`).set(op()).expect(200);
    expect(got.body.organization).toEqual(body.organization);
    expect(JSON.stringify(got.body)).not.toMatch(/[ps]k_(live|test)_/);
    const list = await request(admin.app).get("/api/v1/organizations?limit=200").set(op()).expect(200);
    expect(list.body.organizations.map((o: { id: string }) => o.id)).toContain(body.organization.id);
    await request(admin.app).get("/api/v1/organizations/org_01ARZ3NDEKTSV4RRFFQ69G5FAV").set(op()).expect(404);
    const bad = await request(admin.app).get("/api/v1/organizations/not-an-id").set(op()).expect(404);
    expect(bad.body.error).toBe("organization_not_found");
  });

  it("rejects bad bodies with 400 validation_error, never 500", async () => {
    const cases: Array<[string, unknown]> = [
      ["{not json", undefined],
      ["", {}],
      ["", { name: "" }],
      ["", { name: 42 }],
      ["", { name: "X", webauthn: { rpId: "acme.example", rpName: "A", origins: ["not a url"] } }],
      ["", { name: "X", webauthn: { rpId: "acme.example", rpName: "A", origins: ["https://evil.example"] } }],
      ["", { name: "X", webauthn: { rpId: "acme.example", rpName: "A", origins: ["http://acme.example"] } }],
      ["", { name: "X", webauthn: { rpId: "https://acme.example", rpName: "A", origins: [] } }],
    ];
    for (const [raw, json] of cases) {
      const req = request(admin.app).post("/api/v1/organizations").set(op()).set("Content-Type", "application/json");
      const res = await (json === undefined ? req.send(raw) : req.send(json as object));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("validation_error");
    }
  });
});

describe("Admin API authentication", () => {
  it("401 for no, malformed, unknown keys; 403 for a publishable key", async () => {
    const org = await admin.createOrganization();
    for (const headers of [
      {},
      { Authorization: "Basic abc" },
      bearer("sk_test_"),
      bearer(`sk_test_${"a".repeat(32)}`),
      bearer(`${org.keys.secret.test.slice(0, -1)}${org.keys.secret.test.endsWith("a") ? "b" : "a"}`),
      bearer(admin.operatorToken),
    ]) {
      const res = await request(admin.app).get("/api/v1/keys").set(headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "Authentication required" });
    }
    for (const pk of [org.keys.publishable.live, org.keys.publishable.test]) {
      const res = await request(admin.app).get("/api/v1/keys").set(bearer(pk));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: "Secret key required" });
      const s = await request(admin.app).get("/api/v1/organizations/current/settings").set(bearer(pk));
      expect(s.status).toBe(403);
    }
  });

  it("a revoked key is refused at once", async () => {
    const org = await admin.createOrganization();
    const created = await request(admin.app).post("/api/v1/keys").set(bearer(org.keys.secret.test)).send({ kind: "secret" }).expect(201);
    expect(created.body.value).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(created.body.passkeySdkValue).toBe(`secret_${created.body.value}`);
    const extra: string = created.body.value;
    await request(admin.app).get("/api/v1/keys").set(bearer(extra)).expect(200);
    const revoked = await request(admin.app)
      .post(`/api/v1/keys/${created.body.key.id}/revoke`)
      .set(bearer(org.keys.secret.test))
      .expect(200);
    expect(revoked.body.key).toMatchObject({ id: created.body.key.id, status: "revoked" });
    const res = await request(admin.app).get("/api/v1/keys").set(bearer(extra));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Authentication required" });
    // Idempotent.
    await request(admin.app).post(`/api/v1/keys/${created.body.key.id}/revoke`).set(bearer(org.keys.secret.test)).expect(200);
  });

  it("a rotated key keeps working until its expiry, then is refused; rotate with 0 stops it at once", async () => {
    const org = await admin.createOrganization();
    const oldKey = org.keys.secret.live;
    const id = await keyIdOf(org, oldKey, "secret");
    const rotated = await request(admin.app).post(`/api/v1/keys/${id}/rotate`).set(bearer(oldKey)).send({ expiresInSeconds: 2 });
    expect(rotated.status).toBe(201);
    expect(rotated.body.value).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
    expect(rotated.body.passkeySdkValue).toBe(`secret_${rotated.body.value}`);
    expect(rotated.body.previous).toMatchObject({ id, status: "expiring", rotatedToKeyId: rotated.body.key.id });
    const newKey: string = rotated.body.value;
    await request(admin.app).get("/api/v1/keys").set(bearer(oldKey)).expect(200); // still works
    await request(admin.app).get("/api/v1/keys").set(bearer(newKey)).expect(200);
    // A rotated key cannot be rotated again.
    const again = await request(admin.app).post(`/api/v1/keys/${id}/rotate`).set(bearer(newKey)).send({});
    expect(again.status).toBe(409);
    await new Promise((r) => setTimeout(r, 2100));
    const res = await request(admin.app).get("/api/v1/keys").set(bearer(oldKey));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Authentication required" });

    const newId = rotated.body.key.id as string;
    const now = await request(admin.app).post(`/api/v1/keys/${newId}/rotate`).set(bearer(newKey)).send({ expiresInSeconds: 0 }).expect(201);
    await request(admin.app).get("/api/v1/keys").set(bearer(newKey)).expect(401);
    await request(admin.app).get("/api/v1/keys").set(bearer(now.body.value)).expect(200);
  });

  it("rotation defaults to 24 h and publishes keys.v1.rotated with the expiry", async () => {
    const org = await admin.createOrganization();
    const id = await keyIdOf(org, org.keys.secret.test, "publishable");
    const before = Date.now();
    const res = await request(admin.app).post(`/api/v1/keys/${id}/rotate`).set(bearer(org.keys.secret.test)).expect(201);
    expect(res.body.value).toMatch(/^pk_test_/);
    const exp = Date.parse(res.body.previous.expiresAt);
    expect(exp - before).toBeGreaterThanOrEqual(86_400_000 - 1000);
    expect(exp - before).toBeLessThanOrEqual(86_400_000 + 5000);
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 3000;
    let data: unknown = null;
    while (Date.now() < deadline) {
      const m = await jsm.streams
        .getMessage(iso.subjects.eventsStream, { last_by_subj: iso.subjects.event(EventType.keyRotated) })
        .catch(() => null);
      const ev = m?.json<{ data: { keyId: string } }>();
      if (ev?.data.keyId === id) {
        data = ev.data;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(data).toMatchObject({
      keyId: id,
      organizationId: org.organization.id,
      kind: "publishable",
      mode: "test",
      expiresAt: res.body.previous.expiresAt,
    });
    expect(JSON.stringify(data)).not.toMatch(/[ps]k_(live|test)_/);
  });
});

describe("isolation", () => {
  it("live and test are separate worlds", async () => {
    const org = await admin.createOrganization();
    const test = await request(admin.app).get("/api/v1/keys").set(bearer(org.keys.secret.test)).expect(200);
    expect(test.body.keys).toHaveLength(2);
    for (const k of test.body.keys) {
      expect(k.mode).toBe("test");
      expect(k.display).toMatch(/^[ps]k_test_…[0-9A-Za-z]{4}$/);
    }
    expect(JSON.stringify(test.body)).not.toContain(org.keys.secret.test);
    expect(JSON.stringify(test.body)).not.toContain(org.keys.publishable.test);
    const liveIds = (await request(admin.app).get("/api/v1/keys").set(bearer(org.keys.secret.live)).expect(200)).body.keys.map(
      (k: { id: string }) => k.id,
    );
    for (const liveId of liveIds) {
      await request(admin.app).post(`/api/v1/keys/${liveId}/rotate`).set(bearer(org.keys.secret.test)).send({}).expect(404);
      await request(admin.app).post(`/api/v1/keys/${liveId}/revoke`).set(bearer(org.keys.secret.test)).expect(404);
    }
    const made = await request(admin.app).post("/api/v1/keys").set(bearer(org.keys.secret.test)).send({ kind: "publishable" }).expect(201);
    expect(made.body.key.mode).toBe("test");
    expect(made.body.value).toMatch(/^pk_test_/);
    // A publishable key has no passkey-SDK secret form.
    expect(made.body).not.toHaveProperty("passkeySdkValue");
  });

  it("organization A's key cannot see, rotate or revoke organization B's keys", async () => {
    const a = await admin.createOrganization({ name: "A" });
    const b = await admin.createOrganization({ name: "B" });
    const bIds = (await request(admin.app).get("/api/v1/keys").set(bearer(b.keys.secret.live)).expect(200)).body.keys.map(
      (k: { id: string }) => k.id,
    );
    const aList = await request(admin.app).get("/api/v1/keys").set(bearer(a.keys.secret.live)).expect(200);
    for (const k of aList.body.keys) expect(bIds).not.toContain(k.id);
    for (const id of bIds) {
      const r = await request(admin.app).post(`/api/v1/keys/${id}/rotate`).set(bearer(a.keys.secret.live)).send({});
      expect(r.status).toBe(404);
      expect(r.body.error).toBe("key_not_found");
      await request(admin.app).post(`/api/v1/keys/${id}/revoke`).set(bearer(a.keys.secret.live)).expect(404);
    }
    // B's keys are untouched.
    await request(admin.app).get("/api/v1/keys").set(bearer(b.keys.secret.live)).expect(200);
    const settingsA = await request(admin.app).get("/api/v1/organizations/current/settings").set(bearer(a.keys.secret.live)).expect(200);
    expect(settingsA.body.settings.accessTokenTtlSeconds).toBe(3600);
  });
});

describe("settings", () => {
  it("reads and updates token lifetimes and the relying party, validating them", async () => {
    const org = await admin.createOrganization();
    const auth = bearer(org.keys.secret.live);
    const got = await request(admin.app).get("/api/v1/organizations/current/settings").set(auth).expect(200);
    expect(got.body).toEqual({
      settings: {
        accessTokenTtlSeconds: 3600,
        refreshTokenTtlSeconds: 2592000,
        sessionLifetimeSeconds: 2592000,
        webauthn: null,
        allowedOrigins: [],
        smsAllowedCountries: [],
      },
    });
    const patched = await request(admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set(auth)
      .send({
        accessTokenTtlSeconds: 900,
        webauthn: { rpId: "Shop.Example", rpName: "Shop", origins: ["https://shop.example", "https://www.shop.example/"] },
      })
      .expect(200);
    expect(patched.body.settings).toEqual({
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2592000,
      sessionLifetimeSeconds: 2592000,
      webauthn: {
        rpId: "shop.example",
        rpName: "Shop",
        origins: ["https://shop.example", "https://www.shop.example"],
        requireUserVerification: false,
      },
      allowedOrigins: [],
      smsAllowedCountries: [],
    });
    const msg = await nc.request(iso.subjects.orgGet, JSON.stringify({ organizationId: org.organization.id }), { timeout: 2000 });
    expect(msg.json()).toMatchObject({ found: true, settings: { accessTokenTtlSeconds: 900 } });

    for (const body of [
      { accessTokenTtlSeconds: 0 },
      { accessTokenTtlSeconds: 10 ** 9 },
      { refreshTokenTtlSeconds: 600 }, // shorter than the access token
      { accessTokenTtlSeconds: "900" },
      { sessionLifetimeSeconds: 0 },
      { sessionLifetimeSeconds: -86_400 },
      { sessionLifetimeSeconds: 86_400.5 },
      { sessionLifetimeSeconds: 10 ** 9 },
      { sessionLifetimeSeconds: "86400" },
      { sessionLifetimeSeconds: 600 }, // shorter than the access token
      { webauthn: { rpId: "shop.example", rpName: "Shop", origins: ["ftp://shop.example"] } },
      { webauthn: { rpId: "shop.example", rpName: "Shop", origins: ["https://shop.example/path"] } },
      { unknownField: true },
    ]) {
      const res = await request(admin.app).patch("/api/v1/organizations/current/settings").set(auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("validation_error");
    }
    const cleared = await request(admin.app).patch("/api/v1/organizations/current/settings").set(auth).send({ webauthn: null }).expect(200);
    expect(cleared.body.settings.webauthn).toBeNull();
    expect(cleared.body.settings.accessTokenTtlSeconds).toBe(900);
    expect(cleared.body.settings.sessionLifetimeSeconds).toBe(2592000); // nothing above changed it
    const lifetime = await request(admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set(auth)
      .send({ sessionLifetimeSeconds: 86_400 })
      .expect(200);
    expect(lifetime.body.settings).toMatchObject({ accessTokenTtlSeconds: 900, sessionLifetimeSeconds: 86_400 });
    const reread = await request(admin.app).get("/api/v1/organizations/current/settings").set(auth).expect(200);
    expect(reread.body.settings.sessionLifetimeSeconds).toBe(86_400);
  });
});

describe("Admin API bodies", () => {
  it("400 validation_error for bad key bodies", async () => {
    const org = await admin.createOrganization();
    const auth = bearer(org.keys.secret.test);
    for (const body of [{}, { kind: "admin" }]) {
      const res = await request(admin.app).post("/api/v1/keys").set(auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("validation_error");
    }
    const bad = await request(admin.app).post("/api/v1/keys").set(auth).set("Content-Type", "application/json").send("{oops");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    const id = await keyIdOf(org, org.keys.secret.test, "publishable");
    for (const body of [{ expiresInSeconds: -1 }, { expiresInSeconds: 1.5 }, { expiresInSeconds: "soon" }]) {
      const res = await request(admin.app).post(`/api/v1/keys/${id}/rotate`).set(auth).send(body);
      expect(res.status).toBe(400);
    }
    await request(admin.app).post("/api/v1/keys/key_nope/rotate").set(auth).send({}).expect(404);
    expect(ApiKeyPattern.test(org.keys.secret.test)).toBe(true);
  });
});
