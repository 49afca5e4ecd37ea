import { EventType, KeyVerifyReply } from "@authplane/contracts";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { request } from "./support/harness.js";
import type { AdminKeyTestHandle } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";

/**
 * The consumer API's allowed browser origins (CORS), per organization and mode: set by the
 * operator at creation or later, and by each mode's secret key; validated and normalised to what
 * browsers send in `Origin`; carried to consumer-auth in the `keys.v1.verify` reply.
 */
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
const SETTINGS = "/api/v1/organizations/current/settings";

async function allowedOriginsOf(key: string): Promise<string[]> {
  const msg = await nc.request(iso.subjects.keysVerify, JSON.stringify({ key }), { timeout: 2000 });
  const reply = KeyVerifyReply.parse(msg.json());
  if (!reply.valid) throw new Error("key not valid");
  return reply.settings.allowedOrigins;
}

describe("allowedOrigins with the secret key", () => {
  it("is empty by default, and a PATCH stores the origins normalised as browsers send them", async () => {
    const org = await admin.createOrganization();
    expect((await request(admin.app).get(SETTINGS).set(bearer(org.keys.secret.live)).expect(200)).body.settings.allowedOrigins).toEqual([]);
    expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual([]);

    const res = await request(admin.app)
      .patch(SETTINGS)
      .set(bearer(org.keys.secret.live))
      .send({
        allowedOrigins: [
          "HTTPS://Shop.Example:443/",
          "https://shop.example",
          " https://www.shop.example:8443 ",
          "http://localhost:3000",
          "http://127.0.0.1:5173",
          "https://bücher.example",
        ],
      })
      .expect(200);
    const expected = [
      "https://shop.example",
      "https://www.shop.example:8443",
      "http://localhost:3000",
      "http://127.0.0.1:5173",
      "https://xn--bcher-kva.example",
    ];
    expect(res.body.settings.allowedOrigins).toEqual(expected);
    expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual(expected);
    // The other mode is another world.
    expect(await allowedOriginsOf(org.keys.publishable.test)).toEqual([]);
    // Other settings are untouched; an empty list clears.
    expect(res.body.settings.accessTokenTtlSeconds).toBe(3600);
    const cleared = await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.live)).send({ allowedOrigins: [] }).expect(200);
    expect(cleared.body.settings.allowedOrigins).toEqual([]);
  });

  it("refuses what is not an origin browsers send, with 400 validation_error naming each entry, and changes nothing", async () => {
    const org = await admin.createOrganization({ allowedOrigins: ["https://shop.example"] });
    const bad: Array<[unknown, RegExp]> = [
      [["https://shop.example/checkout"], /without path/],
      [["https://shop.example/?a=1"], /without path/],
      [["https://shop.example/#x"], /without path/],
      [["https://user:pw@shop.example"], /without path/],
      [["https://*.shop.example"], /no wildcards/],
      [["http://shop.example"], /https/],
      [["ftp://shop.example"], /https/],
      [["null"], /origin/],
      [["shop.example"], /origin/],
      [["*"], /origin/],
      [[42], /./],
      ["https://shop.example", /./],
      [Array.from({ length: 51 }, (_, i) => `https://s${i}.shop.example`), /./],
    ];
    for (const [allowedOrigins, message] of bad) {
      const res = await request(admin.app).patch(SETTINGS).set(bearer(org.keys.secret.live)).send({ allowedOrigins });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("validation_error");
      expect(res.body.issues[0].path[0]).toBe("allowedOrigins");
      expect(res.body.issues.map((i: { message: string }) => i.message).join(" ")).toMatch(message);
    }
    expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual(["https://shop.example"]);
  });

  it("a test key changes only the test list; the change is announced as settings_updated with field allowedOrigins", async () => {
    const org = await admin.createOrganization({ allowedOrigins: ["https://shop.example"] });
    const events: unknown[] = [];
    const sub: Subscription = nc.subscribe(iso.subjects.event(EventType.organizationSettingsUpdated), {
      callback: (_err, msg) => {
        events.push(msg.json());
      },
    });
    await nc.flush();
    try {
      await request(admin.app)
        .patch(SETTINGS)
        .set(bearer(org.keys.secret.test))
        .send({ allowedOrigins: ["http://localhost:3000"] })
        .expect(200);
      expect(await allowedOriginsOf(org.keys.publishable.test)).toEqual(["http://localhost:3000"]);
      expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual(["https://shop.example"]);
      await eventually(async () => events.length === 1, 3000);
      expect(events[0]).toMatchObject({
        organizationId: org.organization.id,
        mode: "test",
        data: { fields: ["allowedOrigins"], settings: { allowedOrigins: ["http://localhost:3000"] } },
      });
    } finally {
      sub.unsubscribe();
    }
  });
});

describe("allowedOrigins with the operator API", () => {
  it("POST /organizations sets both modes' origins", async () => {
    const res = await request(admin.app)
      .post("/api/v1/organizations")
      .set(op())
      .send({ name: "Shop", allowedOrigins: ["https://Shop.Example/"] })
      .expect(201);
    expect(res.body.organization.settingsByMode.live.allowedOrigins).toEqual(["https://shop.example"]);
    expect(res.body.organization.settingsByMode.test.allowedOrigins).toEqual(["https://shop.example"]);
    expect(await allowedOriginsOf(res.body.keys.publishable.test)).toEqual(["https://shop.example"]);
    const bad = await request(admin.app)
      .post("/api/v1/organizations")
      .set(op())
      .send({ name: "Bad", allowedOrigins: ["https://*.x.example"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
  });

  it("GET/PATCH /organizations/:id/settings/:mode read and change one mode of any organization", async () => {
    const org = await admin.createOrganization({ allowedOrigins: ["https://shop.example"] });
    const path = (mode: string) => `/api/v1/organizations/${org.organization.id}/settings/${mode}`;
    const patched = await request(admin.app)
      .patch(path("test"))
      .set(op())
      .send({ allowedOrigins: ["http://localhost:8080", "https://staging.shop.example"] })
      .expect(200);
    expect(patched.body.settings.allowedOrigins).toEqual(["http://localhost:8080", "https://staging.shop.example"]);
    expect((await request(admin.app).get(path("test")).set(op()).expect(200)).body.settings.allowedOrigins).toEqual([
      "http://localhost:8080",
      "https://staging.shop.example",
    ]);
    expect((await request(admin.app).get(path("live")).set(op()).expect(200)).body.settings.allowedOrigins).toEqual([
      "https://shop.example",
    ]);
    expect(await allowedOriginsOf(org.keys.publishable.test)).toEqual(["http://localhost:8080", "https://staging.shop.example"]);
    expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual(["https://shop.example"]);

    // Same validation as the secret key's PATCH.
    const bad = await request(admin.app)
      .patch(path("live"))
      .set(op())
      .send({ allowedOrigins: ["https://shop.example/x"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    // Unknown mode or organization: 404; a secret key is not the operator: 401.
    expect((await request(admin.app).patch(path("staging")).set(op()).send({ allowedOrigins: [] })).status).toBe(404);
    const unknown = await request(admin.app)
      .patch("/api/v1/organizations/org_01ARZ3NDEKTSV4RRFFQ69G5FAV/settings/live")
      .set(op())
      .send({ allowedOrigins: [] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("organization_not_found");
    const notOperator = await request(admin.app).patch(path("live")).set(bearer(org.keys.secret.live)).send({ allowedOrigins: [] });
    expect(notOperator.status).toBe(401);
    expect(await allowedOriginsOf(org.keys.publishable.live)).toEqual(["https://shop.example"]);
  });
});
