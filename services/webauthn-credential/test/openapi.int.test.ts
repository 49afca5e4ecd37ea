import { createTestIsolation, expectRoutesMatchDocument, routeCoverage } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { webauthnOpenApi } from "../src/app.js";
import { startWebauthnForTest } from "../src/testing.js";
import type { OrgForTest } from "./support/admin.js";
import { clientCall, enroll, type Harness, RP, serverCall, signIn, startHarness } from "./support/harness.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

// Issue 11 item 4: the OpenAPI document is generated from the endpoint declarations, names exactly
// the app's routes, is served at /openapi.json and /docs, and the harness validates responses with it.

let h: Harness;
let org: OrgForTest;

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "OpenAPI", webauthn: RP });
});
afterAll(async () => {
  await h?.stop();
});

const API_ROUTES = [
  "POST /attestation/options",
  "POST /attestation/process",
  "POST /assertion/options",
  "POST /assertion/process",
  "POST /registration/attach",
  "POST /credential/create",
  "POST /auth/verify",
  "POST /credential/update",
  "POST /credential/find",
];

test("the document names exactly the app's routes (demo on), and every passkey API route", () => {
  expectRoutesMatchDocument(h.svc.app, webauthnOpenApi({ demo: true }));
  const doc = webauthnOpenApi({ demo: true });
  const named = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  expect(named).toEqual(expect.arrayContaining([...API_ROUTES, "GET /demo/config", "GET /healthz", "GET /openapi.json", "GET /docs"]));
  // A document of the other configuration does not match this app: the check can fail.
  expect(routeCoverage(h.svc.app, webauthnOpenApi({ demo: false })).missingFromDocument).toEqual(
    expect.arrayContaining(["GET /demo/config", "POST /demo/backend/attach"]),
  );
});

test("with DEMO_ENABLED=false the app and its document have no demo route", async () => {
  const iso = createTestIsolation();
  const svc = await startWebauthnForTest(iso, { env: { DEMO_ENABLED: "false" } });
  try {
    expectRoutesMatchDocument(svc.app, webauthnOpenApi({ demo: false }));
    const served = await supertest(svc.app).get("/openapi.json");
    expect(Object.keys(served.body.paths).filter((p) => p.startsWith("/demo"))).toEqual([]);
  } finally {
    await svc.stop();
    await iso.cleanup();
  }
});

test("GET /openapi.json serves the OpenAPI 3.1 document, with security schemes and wrapped error codes", async () => {
  const res = await h.http.get("/openapi.json").expect(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(webauthnOpenApi({ demo: true }))));
  expect(res.body.openapi).toBe("3.1.0");
  expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual([
    "passkeyOperatorToken",
    "passkeyPublishableKey",
    "passkeySecretKey",
  ]);
  const verify = res.body.paths["/auth/verify"].post;
  expect(verify.security).toEqual([{ passkeySecretKey: [] }]);
  expect(verify["x-error-codes"]["400"]).toEqual(
    expect.arrayContaining([
      "InvalidAuthorizationHeader",
      "InvalidInput",
      "SecretKeyExpired",
      "SecretKeyNotFound",
      "TokenExpired",
      "TokenNotFound",
    ]),
  );
  expect(verify.responses["200"].content["application/json"].schema.properties.errors).toMatchObject({ type: "array", maxItems: 0 });
});

test("GET /docs is a self-contained HTML reference naming every operation", async () => {
  const res = await h.http.get("/docs").expect(200);
  expect(res.headers["content-type"]).toMatch(/^text\/html/);
  for (const route of API_ROUTES) expect(res.text).toContain(route.split(" ")[1]);
  expect(res.text).toContain("UsernameInUseByDifferentAccount");
  // Nothing loaded from elsewhere: no script, no external stylesheet or font.
  expect(res.text).not.toMatch(/<script|<link|https?:\/\/(?!localhost)[a-z]/i);
});

test("the harness validates the suite's responses against the document (success and errors)", async () => {
  const before = h.validator.checked;
  const keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
  const auth = new SoftAuthenticator();
  await enroll(h, keys, auth, { id: "user-openapi", handle: "openapi@example.com" });
  const signedIn = await signIn(h, keys.pk, auth, { user: { username: "openapi@example.com" } });
  expect(signedIn.status).toBe(200);
  await serverCall(h, keys.sk, "/auth/verify", { token: signedIn.body.result.token }).expect(200);
  await serverCall(h, keys.sk, "/auth/verify", { token: signedIn.body.result.token }).expect(400);
  await clientCall(h, keys.pk, "/assertion/options", { user: "not an object" }).expect(400);
  expect(h.validator.checked - before).toBeGreaterThanOrEqual(7);
  // A body that breaks the declared result schema is reported.
  expect(
    h.validator.problems("post", "/auth/verify", {
      status: 200,
      headers: { "content-type": "application/json" },
      body: { result: { user: {} }, errors: [] },
    }),
  ).not.toEqual([]);
  // An error code the endpoint does not declare is reported too.
  expect(
    h.validator.problems("post", "/credential/find", {
      status: 400,
      headers: { "content-type": "application/json" },
      body: { result: null, errors: [{ code: "UsernameCannotChange", message: "x" }] },
    }),
  ).not.toEqual([]);
});
