/**
 * Issue 11 item 4: consumer-auth's OpenAPI document is generated from the endpoint declarations,
 * names exactly the app's routes (with and without the demo), is served at /openapi.json and
 * /docs, and the suite's responses are validated against it (test/helpers.ts `request`).
 */
import { createTestIsolation, expectRoutesMatchDocument, routeCoverage } from "@authplane/service-kit/testing";
import { consumerAuthOpenApi } from "../src/app.js";
import { startConsumerAuthForTest } from "../src/testing.js";
import { request, responseValidator, startWorld, type World } from "./helpers.js";

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w?.stop();
});

const API_ROUTES = [
  "POST /api/v1/auth/guest",
  "POST /api/v1/auth/otp/request",
  "POST /api/v1/auth/otp/verify",
  "POST /api/v1/auth/external/authorize",
  "POST /api/v1/auth/external/exchange",
  "POST /api/v1/auth/refresh",
  "POST /api/v1/auth/logout",
  "POST /api/v1/auth/introspect",
  "GET /api/v1/auth/check",
  "GET /.well-known/jwks.json",
  "GET /api/v1/consumers",
  "GET /api/v1/consumers/{consumerId}",
  "GET /api/v1/consumers/{consumerId}/sessions",
  "POST /api/v1/consumers/{consumerId}/sessions/{sessionId}/revoke",
  "POST /api/v1/consumers/{consumerId}/sessions/revoke",
  "GET /api/v1/stats/consumers",
];

function operations(doc: ReturnType<typeof consumerAuthOpenApi>): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
}

test("the document names exactly the app's routes (demo on), every consumer API route among them", () => {
  const doc = consumerAuthOpenApi({ demo: true });
  expectRoutesMatchDocument(w.ca.app, doc);
  expect(operations(doc)).toEqual(
    expect.arrayContaining([...API_ROUTES, "GET /demo/consumer/config", "GET /healthz", "GET /readyz", "GET /openapi.json", "GET /docs"]),
  );
  // The document of the other configuration does not match this app: the check can fail.
  expect(routeCoverage(w.ca.app, consumerAuthOpenApi({ demo: false })).missingFromDocument).toEqual(
    expect.arrayContaining(["GET /demo/consumer/config", "GET /demo/consumer/sdk.js"]),
  );
});

test("with DEMO_ENABLED=false the app and its document have no demo route", async () => {
  const iso = createTestIsolation();
  const ca = await startConsumerAuthForTest(iso, { env: { DEMO_ENABLED: "false" } });
  try {
    expectRoutesMatchDocument(ca.app, consumerAuthOpenApi({ demo: false }));
    const served = await request(ca.app).get("/openapi.json");
    expect(served.status).toBe(200);
    expect(Object.keys(served.body.paths).filter((p) => p.startsWith("/demo"))).toEqual([]);
  } finally {
    await ca.stop();
    await iso.cleanup();
  }
});

test("GET /openapi.json serves the OpenAPI 3.1 document: security schemes, rate limits and seed 000 error codes", async () => {
  const res = await request(w.ca.app).get("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(consumerAuthOpenApi({ demo: true }))));
  expect(res.body.openapi).toBe("3.1.0");
  expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual([
    "consumerAccessToken",
    "consumerInternalToken",
    "consumerOperatorToken",
    "consumerPublishableKey",
    "consumerSecretKey",
  ]);
  const verify = res.body.paths["/api/v1/auth/otp/verify"].post;
  expect(verify.security).toEqual([{ consumerPublishableKey: [] }]);
  expect(verify["x-error-codes"]["401"]).toEqual(
    expect.arrayContaining(["Authentication required", "otp_expired", "otp_invalid", "otp_attempts_exceeded", "key_mismatch"]),
  );
  expect(verify["x-rate-limits"].map((l: { name: string }) => l.name)).toEqual(["publicIpAndKey"]);
  expect(res.body.paths["/api/v1/auth/external/authorize"].post.security).toEqual([{ consumerSecretKey: [] }]);
  expect(res.body.paths["/api/v1/auth/check"].get.security).toEqual([{ consumerInternalToken: [] }]);
  expect(res.body.paths["/api/v1/auth/logout"].post.responses["204"].content).toBeUndefined();
});

test("GET /docs is a self-contained HTML reference naming every operation", async () => {
  const res = await request(w.ca.app).get("/docs");
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/html/);
  for (const route of API_ROUTES) expect(res.text).toContain(route.split(" ")[1]);
  expect(res.text).toContain("refresh_token_reused");
  expect(res.text).not.toMatch(/<script|<link|https?:\/\/(?!localhost)[a-z]/i);
});

test("the harness validates the suite's responses against the document (success and errors)", async () => {
  const validator = responseValidator(true);
  const before = validator.checked;
  const pk = w.orgA.keys.publishable.live;
  const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(g.status).toBe(200);
  expect((await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: "rt_nope" })).status).toBe(
    401,
  );
  expect((await request(w.ca.app).post("/api/v1/auth/otp/request").set("X-Publishable-Key", pk).send({ email: 3 })).status).toBe(400);
  const check = await request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${g.body.accessToken}`)
    .set("X-Publishable-Key", pk);
  expect(check.status).toBe(200);
  expect((await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${g.body.accessToken}`)).status).toBe(204);
  expect((await request(w.ca.app).get("/.well-known/jwks.json")).status).toBe(200);
  expect(validator.checked - before).toBeGreaterThanOrEqual(4);
  // A success body that breaks the declared schema is reported.
  expect(
    validator.problems("post", "/api/v1/auth/refresh", {
      status: 200,
      headers: { "content-type": "application/json" },
      body: { accessToken: "x" },
    }),
  ).not.toEqual([]);
  // An error code the endpoint does not declare is reported, and so is an undeclared status.
  expect(
    validator.problems("post", "/api/v1/auth/guest", {
      status: 401,
      headers: { "content-type": "application/json" },
      body: { error: "refresh_token_reused" },
    }),
  ).not.toEqual([]);
  expect(
    validator.problems("post", "/api/v1/auth/guest", {
      status: 409,
      headers: { "content-type": "application/json" },
      body: { error: "x" },
    }),
  ).not.toEqual([]);
});
