import { startWorld, type World, request } from "./helpers.js";

// RequestGate (src/limits/request-gate.ts) takes the per-IP limit and the publishable key's budget
// in one Redis round trip. These tests pin that it spends the very buckets the key check and
// logout spend otherwise (service-kit KeyBudget), once per request, and that /check's early read
// of the revocation markers still refuses a logged-out session.

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "4" } });
});
afterAll(async () => {
  await w?.stop();
});

const pk = () => w.orgA.keys.publishable.live;
const guest = () => request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk());

test("one point per request of the (key, client) budget, shared by the gated endpoints, /check and logout", async () => {
  const g = await guest(); // 1
  expect(g.status).toBe(200);
  const check = await request(w.ca.app) // 2
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${g.body.accessToken}`)
    .set("X-Publishable-Key", pk());
  expect(check.status).toBe(200);
  // Logout takes the key's budget itself (after the token), not in the gate: same bucket.
  const out = await request(w.ca.app) // 3
    .post("/api/v1/auth/logout")
    .set("Authorization", `Bearer ${g.body.accessToken}`)
    .set("X-Publishable-Key", pk());
  expect(out.status).toBe(204);
  expect((await guest()).status).toBe(200); // 4
  const refused = await guest();
  expect(refused.status).toBe(429);
  expect(refused.body.error).toBe("rate_limited");
  expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  // Another organization's key is another budget.
  const other = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgB.keys.publishable.live);
  expect(other.status).toBe(200);
});

test("/check reads the revocation markers in its first round trip: a logged-out token is refused", async () => {
  const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgB.keys.publishable.test);
  expect(g.status).toBe(200);
  const check = () =>
    request(w.ca.app)
      .get("/api/v1/auth/check")
      .set("Authorization", `Bearer ${g.body.accessToken}`)
      .set("X-Publishable-Key", w.orgB.keys.publishable.test);
  expect((await check()).status).toBe(200);
  expect((await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${g.body.accessToken}`)).status).toBe(204);
  expect((await check()).status).toBe(401);
  // Redis loses everything (its revoked set included): the check rebuilds the set from Postgres first.
  await w.iso.flushRedis();
  expect((await check()).status).toBe(401);
});
