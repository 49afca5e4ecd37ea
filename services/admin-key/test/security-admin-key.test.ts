import { createTestIsolation } from "@authplane/service-kit/testing";
import { request } from "./support/harness.js";
import type { AdminKeyTestHandle } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";

/** Attacker-side checks of the admin API (security review). */
const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
useAdminKey(iso, (h) => {
  admin = h.admin;
});

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const SETTINGS = "/api/v1/organizations/current/settings";

describe("the relying party cannot be pointed at a dangerous origin", () => {
  it("refuses look-alike, insecure, non-origin and script origins, and bad rpIds; the stored settings do not change", async () => {
    const org = await admin.createOrganization();
    const auth = bearer(org.keys.secret.live);
    const good = { rpId: "shop.example", rpName: "Shop", origins: ["https://shop.example"], requireUserVerification: false };
    await request(admin.app).patch(SETTINGS).set(auth).send({ webauthn: good }).expect(200);
    const bad: Array<{ rpId: string; origins: string[] }> = [
      { rpId: "shop.example", origins: ["https://shop.example.evil.test"] },
      { rpId: "shop.example", origins: ["https://evilshop.example"] },
      { rpId: "shop.example", origins: ["http://shop.example"] },
      { rpId: "shop.example", origins: ["javascript:alert(1)//shop.example"] },
      { rpId: "shop.example", origins: ["null"] },
      { rpId: "shop.example", origins: ["https://user:pw@shop.example"] },
      { rpId: "shop.example", origins: ["https://shop.example/login"] },
      { rpId: "shop.example", origins: ["https://*.shop.example"] },
      { rpId: "https://shop.example", origins: ["https://shop.example"] },
      { rpId: "shop.example:443", origins: ["https://shop.example"] },
      { rpId: "shop.example/x", origins: ["https://shop.example"] },
    ];
    for (const w of bad) {
      const r = await request(admin.app)
        .patch(SETTINGS)
        .set(auth)
        .send({ webauthn: { ...w, rpName: "Evil" } });
      expect({ w, status: r.status }).toEqual({ w, status: 400 });
    }
    const now = await request(admin.app).get(SETTINGS).set(auth).expect(200);
    expect(now.body.settings.webauthn).toEqual(good);
  });

  it("another organization's secret key changes only its own settings; a publishable key cannot change any", async () => {
    const a = await admin.createOrganization();
    const b = await admin.createOrganization();
    await request(admin.app).patch(SETTINGS).set(bearer(b.keys.secret.live)).send({ accessTokenTtlSeconds: 600 }).expect(200);
    const r = await request(admin.app).patch(SETTINGS).set(bearer(a.keys.publishable.live)).send({ accessTokenTtlSeconds: 60 });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: "Secret key required" });
    const sa = await request(admin.app).get(SETTINGS).set(bearer(a.keys.secret.live)).expect(200);
    expect(sa.body.settings.accessTokenTtlSeconds).toBe(3600);
  });

  it("another organization's key ids cannot be rotated or revoked", async () => {
    const a = await admin.createOrganization();
    const b = await admin.createOrganization();
    const keys = await request(admin.app).get("/api/v1/keys").set(bearer(a.keys.secret.live)).expect(200);
    const aKeyId = (keys.body.keys as Array<{ id: string }>)[0]?.id ?? "";
    expect(aKeyId).not.toBe("");
    for (const action of ["rotate", "revoke"]) {
      const r = await request(admin.app).post(`/api/v1/keys/${aKeyId}/${action}`).set(bearer(b.keys.secret.live)).send({});
      expect(r.status).toBe(404);
    }
    await request(admin.app).get("/api/v1/keys").set(bearer(a.keys.secret.live)).expect(200);
  });
});
