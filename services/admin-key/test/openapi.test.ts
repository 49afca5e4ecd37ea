import { createTestIsolation, expectRoutesMatchDocument } from "@authplane/service-kit/testing";
import { adminKeyOpenApi } from "../src/app.js";
import type { AdminKeyTestHandle } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";
import { request, validator } from "./support/harness.js";

// Issue 11 item 4: the document is generated from the endpoint declarations, names exactly the
// app's routes, is served at /openapi.json and /docs, and the harness validates responses with it.

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
useAdminKey(iso, (h) => {
  admin = h.admin;
});

const API_ROUTES = [
  "POST /api/v1/organizations",
  "GET /api/v1/organizations",
  "GET /api/v1/organizations/{id}",
  "GET /api/v1/organizations/{id}/settings/{mode}",
  "PATCH /api/v1/organizations/{id}/settings/{mode}",
  "GET /api/v1/keys",
  "POST /api/v1/keys",
  "POST /api/v1/keys/{id}/rotate",
  "POST /api/v1/keys/{id}/revoke",
  "GET /api/v1/organizations/current/settings",
  "PATCH /api/v1/organizations/current/settings",
];

test("the document names exactly the app's routes, every operator and Admin API route among them", () => {
  expectRoutesMatchDocument(admin.app, adminKeyOpenApi());
  const doc = adminKeyOpenApi();
  const named = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  expect(named.sort()).toEqual([...API_ROUTES, "GET /healthz", "GET /readyz", "GET /openapi.json", "GET /docs"].sort());
});

test("GET /openapi.json serves the document, with both security schemes and seed 000 error codes", async () => {
  const res = await request(admin.app).get("/openapi.json").expect(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(adminKeyOpenApi())));
  expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual(["adminOperatorToken", "adminSecretKey"]);
  const rotate = res.body.paths["/api/v1/keys/{id}/rotate"].post;
  expect(rotate.security).toEqual([{ adminSecretKey: [] }]);
  expect(rotate["x-error-codes"]).toMatchObject({
    "401": ["Authentication required"],
    "404": ["key_not_found"],
    "409": ["key_not_active"],
  });
  expect(res.body.paths["/api/v1/organizations"].post.security).toEqual([{ adminOperatorToken: [] }]);
});

test("GET /docs is a self-contained HTML reference naming every operation", async () => {
  const res = await request(admin.app).get("/docs").expect(200);
  expect(res.headers["content-type"]).toMatch(/^text\/html/);
  for (const route of API_ROUTES) expect(res.text).toContain(route.split(" ")[1]);
  expect(res.text).not.toMatch(/<script|<link|https?:\/\/(?!localhost)[a-z]/i);
});

test("the harness validates responses against the document (success and errors)", async () => {
  const before = validator.checked;
  const org = await admin.createOrganization();
  const bearer = { Authorization: `Bearer ${org.keys.secret.test}` };
  await request(admin.app).get("/api/v1/keys").set(bearer).expect(200);
  await request(admin.app).post("/api/v1/keys/key_nope/rotate").set(bearer).send({}).expect(404);
  await request(admin.app).post("/api/v1/keys").set(bearer).send({ kind: "nope" }).expect(400);
  await request(admin.app).get("/api/v1/keys").expect(401);
  expect(validator.checked - before).toBeGreaterThanOrEqual(4);
  // A body that breaks the declared schema is reported.
  expect(
    validator.problems("get", "/api/v1/keys", { status: 200, headers: { "content-type": "application/json" }, body: { keys: [{}] } }),
  ).not.toEqual([]);
  // An error code the endpoint does not declare is reported too.
  expect(
    validator.problems("get", "/api/v1/keys", {
      status: 404,
      headers: { "content-type": "application/json" },
      body: { error: "key_not_found", message: "x" },
    }),
  ).not.toEqual([]);
});
