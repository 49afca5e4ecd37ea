import { KeyVerifyReply } from "@authplane/contracts";
import { createTestIsolation } from "@authplane/service-kit/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { request } from "./support/harness.js";
import type { AdminKeyTestHandle } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";

/** Issue 8 item 8: `settings.webauthn.requireUserVerification`, per organization and mode. */
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

const SETTINGS = "/api/v1/organizations/current/settings";
const SHOP = { rpId: "shop.example", rpName: "Shop", origins: ["https://shop.example"] };
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

async function verifiedWebauthn(key: string) {
  const msg = await nc.request(iso.subjects.keysVerify, JSON.stringify({ key }), { timeout: 2000 });
  const reply = KeyVerifyReply.parse(msg.json());
  if (!reply.valid) throw new Error("key not valid");
  return reply.settings.webauthn;
}

it("defaults to false; the operator can set it at creation, for both modes", async () => {
  const auth = { Authorization: `Bearer ${admin.operatorToken}` };
  const plain = await request(admin.app).post("/api/v1/organizations").set(auth).send({ name: "Plain", webauthn: SHOP }).expect(201);
  expect(plain.body.organization.settingsByMode.live.webauthn.requireUserVerification).toBe(false);
  const strict = await request(admin.app)
    .post("/api/v1/organizations")
    .set(auth)
    .send({ name: "Strict", webauthn: { ...SHOP, requireUserVerification: true } })
    .expect(201);
  expect(strict.body.organization.settingsByMode.live.webauthn.requireUserVerification).toBe(true);
  expect(strict.body.organization.settingsByMode.test.webauthn.requireUserVerification).toBe(true);
  expect((await verifiedWebauthn(strict.body.keys.publishable.test))?.requireUserVerification).toBe(true);
});

it("a secret key turns it on and off for its own mode; an edit that omits it keeps it; bad values are 400", async () => {
  const org = await admin.createOrganization({ webauthn: SHOP });
  const auth = bearer(org.keys.secret.test);
  const on = await request(admin.app)
    .patch(SETTINGS)
    .set(auth)
    .send({ webauthn: { ...SHOP, requireUserVerification: true } })
    .expect(200);
  expect(on.body.settings.webauthn).toEqual({ ...SHOP, requireUserVerification: true });
  expect((await verifiedWebauthn(org.keys.publishable.test))?.requireUserVerification).toBe(true);
  // Live is another world.
  expect((await verifiedWebauthn(org.keys.publishable.live))?.requireUserVerification).toBe(false);

  // Changing the origins without naming the setting does not silently turn it off.
  const edited = await request(admin.app)
    .patch(SETTINGS)
    .set(auth)
    .send({ webauthn: { ...SHOP, origins: ["https://shop.example", "https://www.shop.example"] } })
    .expect(200);
  expect(edited.body.settings.webauthn.requireUserVerification).toBe(true);

  for (const value of ["yes", 1, null]) {
    const r = await request(admin.app)
      .patch(SETTINGS)
      .set(auth)
      .send({ webauthn: { ...SHOP, requireUserVerification: value } });
    expect({ value, status: r.status, error: r.body.error }).toEqual({ value, status: 400, error: "validation_error" });
  }
  expect((await request(admin.app).get(SETTINGS).set(auth).expect(200)).body.settings.webauthn.requireUserVerification).toBe(true);

  const off = await request(admin.app)
    .patch(SETTINGS)
    .set(auth)
    .send({ webauthn: { ...SHOP, requireUserVerification: false } })
    .expect(200);
  expect(off.body.settings.webauthn.requireUserVerification).toBe(false);
  expect((await verifiedWebauthn(org.keys.publishable.test))?.requireUserVerification).toBe(false);
});
