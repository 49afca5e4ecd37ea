import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ExternalAuthorizeRequest, ExternalExchangeRequest, IntrospectRequest, RefreshRequest } from "@authplane/contracts";
import { fuzzEndpoints, isConsumerErrorBody } from "@authplane/service-kit/testing";
import { OtpIdentityInput, OtpVerifyBody } from "../src/otp/normalize-identity.js";
import { startWorld, type World } from "./helpers.js";

// Issue 10 item 7: generated hostile input on every consumer-auth endpoint, concurrently with
// valid requests of another organization, which must all succeed; item 8: no-store on secrets.

let w: World;
let server: Server;
let base: string;

beforeAll(async () => {
  w = await startWorld({
    env: {
      RATE_LIMIT_IP_PER_MINUTE: "1000000",
      RATE_LIMIT_KEY_PER_MINUTE: "1000000",
      RATE_LIMIT_GATEWAY_IP_PER_MINUTE: "1000000",
      RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "1000000",
      OTP_IP_REQUESTS_PER_HOUR: "1000000",
      OTP_IP_VERIFIES_PER_HOUR: "1000000",
    },
  });
  server = w.ca.app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => {
    server?.close(() => r());
    server?.closeAllConnections();
  });
  await w?.stop();
});

const json = { "content-type": "application/json" };

async function post(path: string, headers: Record<string, string>, body: unknown) {
  const res = await fetch(base + path, { method: "POST", headers: { ...json, ...headers }, body: JSON.stringify(body) });
  return { res, body: (await res.json().catch(() => null)) as Record<string, string> };
}

test("no generated bad input gets a 5xx; each is a 4xx {error, message}; valid requests of others sent alongside all succeed", async () => {
  const pk = { "x-publishable-key": w.orgB.keys.publishable.live };
  const sk = { authorization: `Bearer ${w.orgB.keys.secret.live}` };
  const guest = (await post("/api/v1/auth/guest", pk, {})).body;
  const code = (await post("/api/v1/auth/external/authorize", sk, { provider: "p", issuer: "https://i", subject: "s" })).body;
  const bearer = { ...pk, authorization: `Bearer ${guest.accessToken}` };
  let turn = 0;
  const report = await fuzzEndpoints({
    baseUrl: base,
    runsPerTarget: 120,
    targets: [
      { name: "POST /guest", method: "POST", path: "/api/v1/auth/guest", headers: pk, body: {} },
      {
        name: "POST /otp/request",
        method: "POST",
        path: "/api/v1/auth/otp/request",
        headers: pk,
        schema: OtpIdentityInput,
        body: { email: "fuzz@example.com" },
      },
      {
        name: "POST /otp/verify",
        method: "POST",
        path: "/api/v1/auth/otp/verify",
        headers: pk,
        schema: OtpVerifyBody,
        body: { email: "fuzz@example.com", code: "000000" },
      },
      {
        name: "POST /external/authorize",
        method: "POST",
        path: "/api/v1/auth/external/authorize",
        headers: sk,
        schema: ExternalAuthorizeRequest,
        body: { provider: "p", issuer: "https://i", subject: "s", claims: { email: "a@example.com" } },
      },
      {
        name: "POST /external/exchange",
        method: "POST",
        path: "/api/v1/auth/external/exchange",
        headers: pk,
        schema: ExternalExchangeRequest,
        body: { exchangeCode: code.exchangeCode },
      },
      {
        name: "POST /refresh",
        method: "POST",
        path: "/api/v1/auth/refresh",
        headers: pk,
        schema: RefreshRequest,
        body: { refreshToken: guest.refreshToken },
      },
      {
        name: "POST /introspect",
        method: "POST",
        path: "/api/v1/auth/introspect",
        headers: sk,
        schema: IntrospectRequest,
        body: { token: guest.accessToken },
      },
      { name: "GET /check", method: "GET", path: "/api/v1/auth/check", headers: bearer },
      { name: "POST /logout", method: "POST", path: "/api/v1/auth/logout", headers: bearer, body: {} },
    ],
    // The reported case: authorize (batched identity lookups) and guest sessions of org A.
    valid: async () => {
      const n = turn++;
      const r =
        n % 2
          ? await post(
              "/api/v1/auth/external/authorize",
              { authorization: `Bearer ${w.orgA.keys.secret.live}` },
              { provider: "google", issuer: "https://accounts.example", subject: `user-${n % 5}` },
            )
          : await post("/api/v1/auth/guest", { "x-publishable-key": w.orgA.keys.publishable.live }, {});
      if (r.res.status !== 200) throw new Error(`valid request answered ${r.res.status}: ${JSON.stringify(r.body)}`);
    },
    isErrorBody: isConsumerErrorBody,
  });
  expect(report.hostile).toBe(9 * 120);
  expect(report.valid).toBe(9 * 120);
}, 120_000);

test("Admin API: no generated bad input (query strings, path ids) gets a 5xx; operator reads of another organization alongside all succeed", async () => {
  const op = { authorization: "Bearer dev-operator-token", "x-organization-id": w.orgB.organization.id, "x-mode": "live" };
  const guest = (await post("/api/v1/auth/guest", { "x-publishable-key": w.orgB.keys.publishable.live }, {})).body as unknown as {
    session: { consumerId: string; sessionId: string };
  };
  const params = { consumerId: guest.session.consumerId };
  const sessionParams = { ...params, sessionId: guest.session.sessionId };
  let turn = 0;
  const report = await fuzzEndpoints({
    baseUrl: base,
    runsPerTarget: 60,
    targets: [
      { name: "GET /consumers", method: "GET", path: "/api/v1/consumers", headers: op, query: ["q", "limit", "cursor"] },
      { name: "GET /consumers/:id", method: "GET", path: "/api/v1/consumers/:consumerId", params, headers: op },
      {
        name: "GET /consumers/:id/sessions",
        method: "GET",
        path: "/api/v1/consumers/:consumerId/sessions",
        params,
        headers: op,
        query: ["includeRevoked", "limit", "cursor"],
      },
      {
        name: "POST /consumers/:id/sessions/:sid/revoke",
        method: "POST",
        path: "/api/v1/consumers/:consumerId/sessions/:sessionId/revoke",
        params: sessionParams,
        headers: op,
        body: {},
      },
      {
        name: "POST /consumers/:id/sessions/revoke",
        method: "POST",
        path: "/api/v1/consumers/:consumerId/sessions/revoke",
        params,
        headers: op,
        body: {},
      },
      { name: "GET /stats/consumers", method: "GET", path: "/api/v1/stats/consumers", headers: op, query: ["days"] },
    ],
    valid: async () => {
      const n = turn++;
      const headers = { authorization: "Bearer dev-operator-token", "x-organization-id": w.orgA.organization.id, "x-mode": "live" };
      const res = await fetch(
        `${base}${n % 2 ? "/api/v1/stats/consumers?days=30" : `/api/v1/consumers?q=${n % 3 ? "a" : "%2B12025550100"}`}`,
        { headers },
      );
      if (res.status !== 200) throw new Error(`valid request answered ${res.status}: ${await res.text()}`);
    },
    isErrorBody: isConsumerErrorBody,
  });
  expect(report.hostile).toBe(6 * 60);
  expect(report.valid).toBe(6 * 60);
}, 120_000);

test("one NUL authorize request among seven valid ones, 20 rounds: every valid one succeeds, the NUL one is a 400", async () => {
  const sk = { authorization: `Bearer ${w.orgA.keys.secret.live}` };
  for (let round = 0; round < 20; round++) {
    const [bad, ...valid] = await Promise.all([
      post("/api/v1/auth/external/authorize", sk, { provider: "google", issuer: "https://accounts.example", subject: `x\u0000${round}` }),
      ...Array.from({ length: 7 }, (_, i) =>
        post("/api/v1/auth/external/authorize", sk, {
          provider: "google",
          issuer: "https://accounts.example",
          subject: `valid-${round}-${i}`,
        }),
      ),
    ]);
    expect(bad?.res.status).toBe(400);
    expect(bad?.body.error).toBe("validation_error");
    expect(valid.map((v) => v.res.status)).toEqual(Array(7).fill(200));
  }
});

test("a page's hostile or unreadable body gets a 400 it can read (CORS echoed before the body is read)", async () => {
  for (const body of ['{"email":"a\\u0000@example.com"}', '{"email":', '{"__proto__":{"x":1}}']) {
    const res = await fetch(`${base}/api/v1/auth/otp/request`, {
      method: "POST",
      headers: { ...json, "x-publishable-key": w.orgA.keys.publishable.live, origin: "https://shop.example" },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("validation_error");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
  }
});

test("responses with tokens or exchange codes are never cached (Cache-Control: no-store, Pragma: no-cache)", async () => {
  const pk = { "x-publishable-key": w.orgA.keys.publishable.live };
  const guest = await post("/api/v1/auth/guest", pk, {});
  const authorized = await post(
    "/api/v1/auth/external/authorize",
    { authorization: `Bearer ${w.orgA.keys.secret.live}` },
    { provider: "p", issuer: "https://i", subject: "cache" },
  );
  const exchanged = await post("/api/v1/auth/external/exchange", pk, { exchangeCode: authorized.body.exchangeCode });
  const refreshed = await post("/api/v1/auth/refresh", pk, { refreshToken: guest.body.refreshToken });
  for (const [name, r] of Object.entries({ guest, authorized, exchanged, refreshed })) {
    expect({ name, status: r.res.status }).toEqual({ name, status: 200 });
    expect({ name, cc: r.res.headers.get("cache-control"), pragma: r.res.headers.get("pragma") }).toEqual({
      name,
      cc: "no-store",
      pragma: "no-cache",
    });
  }
});
