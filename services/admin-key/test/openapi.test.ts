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

// The web console's pages and forms (HTML, session cookie), declared with the same builder.
const DASHBOARD_ROUTES = [
  "GET /dashboard",
  "GET /dashboard/assets/{file}",
  "GET /dashboard/sign-in",
  "POST /dashboard/sign-in",
  "POST /dashboard/sign-out",
  "GET /dashboard/organizations",
  "POST /dashboard/organizations",
  "GET /dashboard/organizations/{organizationId}",
  "POST /dashboard/organizations/{organizationId}/keys",
  "POST /dashboard/organizations/{organizationId}/keys/{keyId}/rotate",
  "POST /dashboard/organizations/{organizationId}/keys/{keyId}/revoke",
  "GET /dashboard/organizations/{organizationId}/settings",
  "POST /dashboard/organizations/{organizationId}/settings/{mode}",
  "GET /dashboard/organizations/{organizationId}/overview",
  "GET /dashboard/organizations/{organizationId}/consumers",
  "GET /dashboard/organizations/{organizationId}/consumers/{consumerId}",
  "POST /dashboard/organizations/{organizationId}/consumers/{consumerId}/sessions/{sessionId}/revoke",
  "POST /dashboard/organizations/{organizationId}/consumers/{consumerId}/sessions/revoke",
  "POST /dashboard/organizations/{organizationId}/consumers/{consumerId}/passkeys/{credentialId}/deactivate",
  "POST /dashboard/organizations/{organizationId}/consumers/{consumerId}/passkeys/{credentialId}/reactivate",
  "GET /dashboard/organizations/{organizationId}/otp-deliveries",
  "GET /dashboard/organizations/{organizationId}/events",
  "GET /dashboard/organizations/{organizationId}/events/stream",
  "GET /dashboard/audit",
  "POST /dashboard/sign-in/email",
  "GET /dashboard/sign-in/code",
  "POST /dashboard/sign-in/code",
  "GET /dashboard/sign-in/passkey",
  "POST /dashboard/sign-in/passkey",
  "GET /dashboard/sign-in/organization",
  "POST /dashboard/sign-in/organization",
  "GET /dashboard/account/passkey",
  "POST /dashboard/account/passkey",
  "GET /dashboard/organizations/{organizationId}/admins",
  "POST /dashboard/organizations/{organizationId}/admins",
  "POST /dashboard/organizations/{organizationId}/admins/{adminId}/remove",
];

test("the document names exactly the app's routes, every operator and Admin API route among them", () => {
  expectRoutesMatchDocument(admin.app, adminKeyOpenApi());
  const doc = adminKeyOpenApi();
  const named = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  expect(named.sort()).toEqual(
    [...API_ROUTES, ...DASHBOARD_ROUTES, "GET /healthz", "GET /readyz", "GET /openapi.json", "GET /docs"].sort(),
  );
});

test("GET /openapi.json serves the document, with both security schemes and seed 000 error codes", async () => {
  const res = await request(admin.app).get("/openapi.json").expect(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(adminKeyOpenApi())));
  expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual(["adminOperatorToken", "adminSecretKey", "dashboardSession"]);
  // Console forms are documented as what browsers post.
  expect(Object.keys(res.body.paths["/dashboard/sign-in"].post.requestBody.content)).toEqual(["application/x-www-form-urlencoded"]);
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
