import type { Response } from "supertest";
import type { EventEnvelope } from "@authplane/contracts";
import { openJobCode, startWorld, type World, request } from "./helpers.js";

/**
 * The consumer API called from customers' pages on other origins (CORS), as a browser does it:
 * a preflight (OPTIONS, no key), then the actual POST with `Origin`, `Sec-Fetch-Site` and the
 * publishable key. The organization's allowed origins (admin-key settings, per mode) decide.
 */
let w: World;
const SHOP = "https://shop.example";
const SHOP_DEV = "http://localhost:3000";
const OTHER = "https://other.example";
const EVIL = "https://evil.example";
let ipSeq = 0;

beforeAll(async () => {
  w = await startWorld();
  // Each mode's secret key sets its own list, as a customer would.
  const patch = (sk: string, allowedOrigins: string[]) =>
    request(w.admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${sk}`)
      .send({ allowedOrigins })
      .expect(200);
  await patch(w.orgA.keys.secret.live, [SHOP]);
  await patch(w.orgA.keys.secret.test, [SHOP_DEV]);
  await patch(w.orgB.keys.secret.live, [OTHER]);
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const BROWSER_PATHS = ["/guest", "/otp/request", "/otp/verify", "/external/exchange", "/refresh", "/logout"];

/** An actual cross-origin POST as a browser sends it. */
function post(path: string, origin: string, headers: Record<string, string> = {}) {
  ipSeq += 1;
  const r = request(w.ca.app)
    .post(`/api/v1/auth${path}`)
    .set("Origin", origin)
    .set("Sec-Fetch-Site", "cross-site")
    .set("Sec-Fetch-Mode", "cors")
    .set("X-Forwarded-For", `203.0.113.${ipSeq}`);
  for (const [k, v] of Object.entries(headers)) r.set(k, v);
  return r;
}

function preflight(path: string, origin: string, requestHeaders = "content-type,x-publishable-key") {
  return request(w.ca.app)
    .options(`/api/v1/auth${path}`)
    .set("Origin", origin)
    .set("Access-Control-Request-Method", "POST")
    .set("Access-Control-Request-Headers", requestHeaders);
}

/** What a browser checks before letting the page read a response. */
function expectReadableBy(res: Response, origin: string) {
  expect(res.headers["access-control-allow-origin"]).toBe(origin);
  expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
  expect(res.headers.vary).toMatch(/Origin/);
}

function expectNotReadable(res: Response) {
  expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
}

async function lastOtpCode(): Promise<string> {
  const msg = await w.ca.deps.jsm.streams.getMessage(w.iso.subjects.otpStream, { last_by_subj: w.iso.subjects.otpRequested });
  if (!msg) throw new Error("no OTP job");
  return openJobCode(msg.json<EventEnvelope>());
}

describe("preflight", () => {
  test("every browser endpoint answers the preflight: POST, the SDK's headers, no credentials, Vary: Origin", async () => {
    for (const path of BROWSER_PATHS) {
      const res = await preflight(path, SHOP, "authorization,content-type,x-publishable-key");
      expect(res.status).toBe(204);
      expectReadableBy(res, SHOP);
      expect(res.headers["access-control-allow-methods"]).toMatch(/\bPOST\b/);
      const allowed = (res.headers["access-control-allow-headers"] ?? "").toLowerCase().split(/\s*,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(["x-publishable-key", "authorization", "content-type"]));
      expect(Number(res.headers["access-control-max-age"])).toBeGreaterThan(0);
    }
  });

  test("server-only and gateway endpoints get no CORS answer (authorize with the secret key, check, introspect)", async () => {
    for (const path of ["/external/authorize", "/check", "/introspect"]) {
      const res = await preflight(path, SHOP, "authorization,content-type");
      expectNotReadable(res);
    }
  });
});

describe("actual requests from an allowed origin", () => {
  test("guest, refresh, OTP request/verify, exchange and logout are readable by the allowed page only", async () => {
    const pk = { "X-Publishable-Key": w.orgA.keys.publishable.live };
    const guest = await post("/guest", SHOP, pk);
    expect(guest.status).toBe(200);
    expectReadableBy(guest, SHOP);
    expect((guest.headers["access-control-expose-headers"] ?? "").toLowerCase()).toMatch(/retry-after/);

    const refreshed = await post("/refresh", SHOP, pk).send({ refreshToken: guest.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expectReadableBy(refreshed, SHOP);

    const email = `cors-${Date.now()}@example.com`;
    const requested = await post("/otp/request", SHOP, pk).send({ email });
    expect(requested.status).toBe(200);
    expectReadableBy(requested, SHOP);
    const code = await lastOtpCode();
    const verified = await post("/otp/verify", SHOP, { ...pk, Authorization: `Bearer ${refreshed.body.accessToken}` }).send({
      email,
      code,
    });
    expect(verified.status).toBe(200);
    expectReadableBy(verified, SHOP);
    expect(verified.body.session.consumerId).toBe(guest.body.session.consumerId);

    const authorized = await request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({ provider: "shop", issuer: "https://shop.example", subject: `cors_${Date.now()}` });
    expect(authorized.status).toBe(200);
    const exchanged = await post("/external/exchange", SHOP, pk).send({ exchangeCode: authorized.body.exchangeCode });
    expect(exchanged.status).toBe(200);
    expectReadableBy(exchanged, SHOP);

    // Logout as the SDK sends it (both headers) and as the seed shows it (token only).
    const out1 = await post("/logout", SHOP, { ...pk, Authorization: `Bearer ${verified.body.accessToken}` });
    expect(out1.status).toBe(204);
    expectReadableBy(out1, SHOP);
    const out2 = await post("/logout", SHOP, { Authorization: `Bearer ${exchanged.body.accessToken}` });
    expect(out2.status).toBe(204);
    expectReadableBy(out2, SHOP);
  });

  test("the test mode has its own list: the test key works from the dev origin, the live key does not", async () => {
    const dev = await post("/guest", SHOP_DEV, { "X-Publishable-Key": w.orgA.keys.publishable.test });
    expect(dev.status).toBe(200);
    expectReadableBy(dev, SHOP_DEV);
    const live = await post("/guest", SHOP_DEV, { "X-Publishable-Key": w.orgA.keys.publishable.live });
    expect(live.status).toBe(403);
    expectNotReadable(live);
    const testFromShop = await post("/guest", SHOP, { "X-Publishable-Key": w.orgA.keys.publishable.test });
    expect(testFromShop.status).toBe(403);
  });
});

describe("a page on an origin the organization did not allow", () => {
  test("is refused (403 origin_not_allowed, seed format), cannot read the answer, and nothing happens", async () => {
    const pk = { "X-Publishable-Key": w.orgA.keys.publishable.live };
    const consumersBefore = await w.ca.deps.prisma.consumer.count();
    const res = await post("/guest", EVIL, pk);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "origin_not_allowed", message: expect.any(String) });
    expectNotReadable(res);
    expect(await w.ca.deps.prisma.consumer.count()).toBe(consumersBefore);

    // No OTP is sent for it.
    const email = `evil-${Date.now()}@example.com`;
    const otp = await post("/otp/request", EVIL, pk).send({ email });
    expect(otp.status).toBe(403);
    expectNotReadable(otp);
    const lastJob = await w.ca.deps.jsm.streams
      .getMessage(w.iso.subjects.otpStream, { last_by_subj: w.iso.subjects.otpRequested })
      .catch(() => null);
    expect(lastJob ? JSON.stringify(lastJob.json()) : "").not.toContain(email);

    // A stolen refresh token is not spent from there: the real page can still use it.
    const guest = await post("/guest", SHOP, pk);
    const stolen = await post("/refresh", EVIL, pk).send({ refreshToken: guest.body.refreshToken });
    expect(stolen.status).toBe(403);
    expectNotReadable(stolen);
    expect((await post("/refresh", SHOP, pk).send({ refreshToken: guest.body.refreshToken })).status).toBe(200);

    // Logout from there is refused too (with or without the key), and the session lives on.
    const g2 = await post("/guest", SHOP, pk);
    for (const headers of [{ ...pk, Authorization: `Bearer ${g2.body.accessToken}` }, { Authorization: `Bearer ${g2.body.accessToken}` }]) {
      const out = await post("/logout", EVIL, headers);
      expect(out.status).toBe(403);
      expect(out.body.error).toBe("origin_not_allowed");
      expectNotReadable(out);
    }
    const check = await request(w.ca.app)
      .get("/api/v1/auth/check")
      .set("Authorization", `Bearer ${g2.body.accessToken}`)
      .set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect(check.status).toBe(200);
  });

  test("another organization's allowed origin does not allow this organization's key, and vice versa", async () => {
    const aFromB = await post("/guest", OTHER, { "X-Publishable-Key": w.orgA.keys.publishable.live });
    expect(aFromB.status).toBe(403);
    expectNotReadable(aFromB);
    const bFromA = await post("/guest", SHOP, { "X-Publishable-Key": w.orgB.keys.publishable.live });
    expect(bFromA.status).toBe(403);
    expectNotReadable(bFromA);
    const bFromB = await post("/guest", OTHER, { "X-Publishable-Key": w.orgB.keys.publishable.live });
    expect(bFromB.status).toBe(200);
    expectReadableBy(bFromB, OTHER);
  });

  test("an origin that only looks like an allowed one is refused (suffix, scheme, port, null)", async () => {
    for (const origin of [
      "https://shop.example.evil.example",
      "http://shop.example",
      "https://shop.example:8443",
      "null",
      "https://evilshop.example",
    ]) {
      const res = await post("/guest", origin, { "X-Publishable-Key": w.orgA.keys.publishable.live });
      expect(res.status).toBe(403);
      expectNotReadable(res);
    }
  });

  test("a change of the list applies without a restart (the key cache is dropped on settings_updated)", async () => {
    const pk = { "X-Publishable-Key": w.orgB.keys.publishable.test };
    expect((await post("/guest", EVIL, pk)).status).toBe(403);
    await request(w.admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${w.orgB.keys.secret.test}`)
      .send({ allowedOrigins: [EVIL] })
      .expect(200);
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await post("/guest", EVIL, pk)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});

describe("requests CORS does not restrict", () => {
  test("no Origin (servers, native apps) and a browser's same-origin request pass whatever the list", async () => {
    const pk = w.orgB.keys.publishable.live;
    const server = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
    expect(server.status).toBe(200);
    expect(server.headers["access-control-allow-origin"]).toBeUndefined();
    const sameOrigin = await request(w.ca.app)
      .post("/api/v1/auth/guest")
      .set("X-Publishable-Key", pk)
      .set("Origin", "http://localhost:8080")
      .set("Sec-Fetch-Site", "same-origin");
    expect(sameOrigin.status).toBe(200);
  });

  test("errors raised before the organization is known stay readable, and say nothing about any organization", async () => {
    const res = await post("/guest", EVIL, { "X-Publishable-Key": "pk_live_00000000000000000000000000000000" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Authentication required" });
    expectReadableBy(res, EVIL);
  });
});
