import { createLocalJWKSet, jwtVerify } from "jose";
import { startWorld, type World, request } from "./helpers.js";

/**
 * Attacker side of the gateway check: a token minted with ANY organization's public pk_test_ key
 * must not pass the check in front of another organization's (or another mode's) API.
 */
const INTERNAL = "internal-caller-token-for-check-binding-tests-0123456789";

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { INTERNAL_INTROSPECTION_TOKEN: INTERNAL } });
});
afterAll(async () => {
  await w?.stop();
});

/** The attacker's token: a guest session of org A in test mode (anyone can mint one with the public pk_test_ key). */
async function attackerToken(): Promise<{ accessToken: string; consumerId: string }> {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.test);
  expect(res.status).toBe(200);
  return { accessToken: res.body.accessToken, consumerId: res.body.session.consumerId };
}

function check(token: string, headers: Record<string, string> = {}) {
  const r = request(w.ca.app).get("/api/v1/auth/check").set("Authorization", `Bearer ${token}`);
  for (const [k, v] of Object.entries(headers)) r.set(k, v);
  return r;
}

describe("GET /check binds the token to the caller's organization and mode", () => {
  test("org A's pk_test token: refused with org B's key, with org A's live key, and with no key", async () => {
    const { accessToken, consumerId } = await attackerToken();
    for (const pk of [w.orgB.keys.publishable.test, w.orgB.keys.publishable.live, w.orgA.keys.publishable.live]) {
      const res = await check(accessToken, { "X-Publishable-Key": pk });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("Authentication required");
      expect(res.headers["x-consumer-id"]).toBeUndefined();
    }
    const none = await check(accessToken);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("Authentication required");
    expect(none.headers["x-organization-id"]).toBeUndefined();
    // Its own key: accepted.
    const own = await check(accessToken, { "X-Publishable-Key": w.orgA.keys.publishable.test });
    expect(own.status).toBe(200);
    expect(own.headers["x-consumer-id"]).toBe(consumerId);
    expect(own.headers["x-organization-id"]).toBe(w.orgA.organization.id);
    expect(own.headers["x-mode"]).toBe("test");
  });

  test("a secret key, an unknown or a malformed key in X-Publishable-Key binds nothing", async () => {
    const { accessToken } = await attackerToken();
    for (const pk of [w.orgA.keys.secret.test, "pk_test_0000000000000000000000000000", "garbage", ""]) {
      expect((await check(accessToken, { "X-Publishable-Key": pk })).status).toBe(401);
    }
  });

  test("a client cannot name the organization itself: X-Organization-Id/X-Mode count only with the internal token", async () => {
    const { accessToken } = await attackerToken();
    const scope = { "X-Organization-Id": w.orgA.organization.id, "X-Mode": "test" };
    expect((await check(accessToken, scope)).status).toBe(401);
    expect((await check(accessToken, { ...scope, "X-Internal-Token": `${INTERNAL}x` })).status).toBe(401);
    expect((await check(accessToken, { ...scope, "X-Internal-Token": INTERNAL })).status).toBe(200);
  });

  test("an internal caller gets answers only for the organization and mode it names", async () => {
    const { accessToken } = await attackerToken();
    const internal = { "X-Internal-Token": INTERNAL };
    expect((await check(accessToken, { ...internal, "X-Organization-Id": w.orgB.organization.id, "X-Mode": "test" })).status).toBe(401);
    expect((await check(accessToken, { ...internal, "X-Organization-Id": w.orgA.organization.id, "X-Mode": "live" })).status).toBe(401);
    const unnamed = await check(accessToken, internal);
    expect(unnamed.status).toBe(401);
    expect(unnamed.body.error).toBe("Authentication required");
    expect((await check(accessToken, { ...internal, "X-Organization-Id": w.orgA.organization.id })).status).toBe(401);
    // Named scope and a forwarded key must agree.
    const both = { ...internal, "X-Organization-Id": w.orgA.organization.id, "X-Mode": "test" };
    expect((await check(accessToken, { ...both, "X-Publishable-Key": w.orgB.keys.publishable.test })).status).toBe(401);
    expect((await check(accessToken, { ...both, "X-Publishable-Key": w.orgA.keys.publishable.test })).status).toBe(200);
  });
});

describe("POST /introspect binds the token to the caller's organization and mode", () => {
  function introspect(token: string, bearer: string, headers: Record<string, string> = {}) {
    const r = request(w.ca.app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${bearer}`);
    for (const [k, v] of Object.entries(headers)) r.set(k, v);
    return r.send({ token });
  }

  test("another organization's or mode's secret key sees the token inactive", async () => {
    const { accessToken } = await attackerToken();
    for (const sk of [w.orgB.keys.secret.test, w.orgB.keys.secret.live, w.orgA.keys.secret.live]) {
      const res = await introspect(accessToken, sk);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    }
    expect((await introspect(accessToken, w.orgA.keys.secret.test)).body.active).toBe(true);
  });

  test("the internal token must name the organization and mode, and answers only for them", async () => {
    const { accessToken } = await attackerToken();
    const unnamed = await introspect(accessToken, INTERNAL);
    expect(unnamed.status).toBe(401);
    expect(unnamed.body.error).toBe("Authentication required");
    const other = await introspect(accessToken, INTERNAL, { "X-Organization-Id": w.orgB.organization.id, "X-Mode": "test" });
    expect(other.body).toEqual({ active: false });
    const otherMode = await introspect(accessToken, INTERNAL, { "X-Organization-Id": w.orgA.organization.id, "X-Mode": "live" });
    expect(otherMode.body).toEqual({ active: false });
    const own = await introspect(accessToken, INTERNAL, { "X-Organization-Id": w.orgA.organization.id, "X-Mode": "test" });
    expect(own.body).toMatchObject({ active: true, organizationId: w.orgA.organization.id, mode: "test" });
  });
});

describe("local verification with the JWKS", () => {
  test("aud is <organizationId>:<mode>: a verifier pinning its own audience refuses other tenants' tokens", async () => {
    const { accessToken } = await attackerToken();
    const jwks = createLocalJWKSet((await request(w.ca.app).get("/.well-known/jwks.json")).body);
    const opts = { algorithms: ["EdDSA"], issuer: w.ca.deps.env.TOKEN_ISSUER };
    const { payload } = await jwtVerify(accessToken, jwks, { ...opts, audience: `${w.orgA.organization.id}:test` });
    expect(payload).toMatchObject({ organizationId: w.orgA.organization.id, mode: "test", aud: `${w.orgA.organization.id}:test` });
    await expect(jwtVerify(accessToken, jwks, { ...opts, audience: `${w.orgB.organization.id}:test` })).rejects.toThrow(/aud/);
    await expect(jwtVerify(accessToken, jwks, { ...opts, audience: `${w.orgA.organization.id}:live` })).rejects.toThrow(/aud/);
  });
});
