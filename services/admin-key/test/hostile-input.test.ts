import { CreateApiKeyRequest, CreateOrganizationRequest, RotateApiKeyRequest, UpdateSettingsRequest } from "@authplane/contracts";
import { createTestIsolation, fuzzEndpoints, isConsumerErrorBody } from "@authplane/service-kit/testing";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AdminKeyTestHandle, type CreatedOrganization, startAdminKeyInProcess } from "../src/testing.js";
import { getOrganization } from "../src/usecases/get-organization.js";

// Issue 10 item 7: generated hostile input on every admin-key endpoint, concurrently with valid
// requests; and one request can never fail another through a batched query.

const iso = createTestIsolation();
let admin: AdminKeyTestHandle & { deps: Awaited<ReturnType<typeof startAdminKeyInProcess>>["deps"] };
let server: Server;
let base: string;
let victim: CreatedOrganization;
let target: CreatedOrganization;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso, { env: { RATE_LIMIT_IP_PER_MINUTE: "1000000", RATE_LIMIT_KEY_PER_MINUTE: "1000000" } });
  server = admin.app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  victim = await admin.createOrganization({ name: "Valid users" });
  target = await admin.createOrganization({ name: "Fuzzed" });
});
afterAll(async () => {
  await new Promise<void>((r) => {
    server?.close(() => r());
    server?.closeAllConnections();
  });
  await admin?.stop();
  await iso.cleanup();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test("no generated bad input gets a 5xx; each is a 4xx {error, message}; valid requests sent alongside all succeed", async () => {
  const keys = (await (await fetch(`${base}/api/v1/keys`, { headers: bearer(target.keys.secret.live) })).json()) as {
    keys: Array<{ id: string; kind: string }>;
  };
  const pkId = keys.keys.find((k) => k.kind === "publishable")?.id ?? "";
  const op = bearer(admin.operatorToken);
  const sk = bearer(target.keys.secret.live);
  let turn = 0;
  const report = await fuzzEndpoints({
    baseUrl: base,
    runsPerTarget: 120,
    targets: [
      {
        name: "POST /organizations",
        method: "POST",
        path: "/api/v1/organizations",
        headers: op,
        schema: CreateOrganizationRequest,
        body: { name: "Fuzz", webauthn: { rpId: "example.com", rpName: "Ex", origins: ["https://example.com"] } },
      },
      { name: "GET /organizations", method: "GET", path: "/api/v1/organizations", headers: op, query: ["limit", "before"] },
      {
        name: "GET /organizations/:id",
        method: "GET",
        path: "/api/v1/organizations/:id",
        headers: op,
        params: { id: target.organization.id },
      },
      { name: "GET settings", method: "GET", path: "/api/v1/organizations/current/settings", headers: sk },
      {
        name: "PATCH settings",
        method: "PATCH",
        path: "/api/v1/organizations/current/settings",
        headers: sk,
        schema: UpdateSettingsRequest,
        body: { accessTokenTtlSeconds: 600 },
      },
      { name: "GET /keys", method: "GET", path: "/api/v1/keys", headers: sk },
      { name: "POST /keys", method: "POST", path: "/api/v1/keys", headers: sk, schema: CreateApiKeyRequest, body: { kind: "publishable" } },
      {
        name: "POST /keys/:id/rotate",
        method: "POST",
        path: "/api/v1/keys/:id/rotate",
        headers: sk,
        params: { id: pkId },
        schema: RotateApiKeyRequest,
        body: { expiresInSeconds: 60 },
      },
      { name: "POST /keys/:id/revoke", method: "POST", path: "/api/v1/keys/:id/revoke", headers: sk, params: { id: pkId }, body: {} },
    ],
    // Valid requests of another organization on the batched lookups (organization by id, key by hash).
    valid: async () => {
      const res =
        turn++ % 2
          ? await fetch(`${base}/api/v1/organizations/${victim.organization.id}`, { headers: op })
          : await fetch(`${base}/api/v1/keys`, { headers: bearer(victim.keys.secret.live) });
      if (res.status !== 200) throw new Error(`valid request answered ${res.status}: ${await res.text()}`);
    },
    isErrorBody: isConsumerErrorBody,
  });
  expect(report.hostile).toBe(9 * 120);
  expect(report.valid).toBe(9 * 120);
  expect(Object.keys(report.statuses).every((s) => Number(s) < 500)).toBe(true);
}, 120_000);

test("the reported inputs: %ff and %E0%A4%A path ids, a NUL organization name: 400 in the seed format", async () => {
  const op = bearer(admin.operatorToken);
  for (const [method, path, body] of [
    ["GET", "/api/v1/organizations/%ff", undefined],
    ["POST", "/api/v1/keys/%E0%A4%A/revoke", "{}"],
    ["POST", "/api/v1/organizations", JSON.stringify({ name: "Acme\u0000" })],
  ] as const) {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...op,
        ...bearer(path.includes("keys") ? target.keys.secret.live : admin.operatorToken),
        "content-type": "application/json",
      },
      body,
    });
    expect({ path, status: res.status }).toEqual({ path, status: 400 });
    expect(await res.json()).toEqual({ error: "validation_error", issues: [expect.objectContaining({ message: expect.any(String) })] });
  }
});

test("a bad parameter never shares a query with other requests' parameters (no Prisma batching)", async () => {
  // Below the HTTP edge: the same tick, one NUL id among valid ones. Batched into one query, the
  // NUL would fail all eight.
  for (let round = 0; round < 5; round++) {
    const results = await Promise.allSettled([
      getOrganization(admin.deps, { organizationId: `org_\u0000${round}` }),
      ...Array.from({ length: 7 }, () => getOrganization(admin.deps, { organizationId: victim.organization.id })),
    ]);
    expect(results.slice(1).map((r) => (r.status === "fulfilled" ? r.value?.id : String(r.reason)))).toEqual(
      Array(7).fill(victim.organization.id),
    );
  }
});

test("responses with new keys or organizations are not cached", async () => {
  const op = bearer(admin.operatorToken);
  const created = await fetch(`${base}/api/v1/organizations`, {
    method: "POST",
    headers: { ...op, "content-type": "application/json" },
    body: JSON.stringify({ name: "Cache" }),
  });
  expect(created.status).toBe(201);
  const issued = await fetch(`${base}/api/v1/keys`, {
    method: "POST",
    headers: { ...bearer(victim.keys.secret.live), "content-type": "application/json" },
    body: JSON.stringify({ kind: "publishable" }),
  });
  expect(issued.status).toBe(201);
  const { key } = (await issued.json()) as { key: { id: string } };
  const rotated = await fetch(`${base}/api/v1/keys/${key.id}/rotate`, {
    method: "POST",
    headers: { ...bearer(victim.keys.secret.live), "content-type": "application/json" },
    body: "{}",
  });
  expect(rotated.status).toBe(201);
  for (const res of [created, issued, rotated]) {
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("pragma")).toBe("no-cache");
  }
});
