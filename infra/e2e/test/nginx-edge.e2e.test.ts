/**
 * nginx as the production edge: Debian's nginx runs infra/nginx/authplane.conf.template (rendered
 * for local ports by infra/nginx/render.mjs, as the official image renders it) in front of
 * 1. the REAL built services and the example downstream API (infra/nginx/example-api.mjs, seed
 *    000's `POST /api/v1/queues/{id}/enter`) behind `auth_request` to consumer-auth's /check;
 * 2. echo upstreams, side by side with the development gateway (infra/gateway), to show that both
 *    route every path to the same service and answer their own errors with the same bodies;
 * 3. upstreams that are down (503 in each path's format).
 * Clients connect from several loopback addresses (127.0.0.x) to be different clients.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { createGateway, gatewayErrorBody, ROUTE_PREFIXES, serviceOf } from "../../gateway/src/main.js";
import { createExampleApi } from "../../nginx/example-api.mjs";
import { type Edge, startNginx } from "../src/nginx.mjs";
import { createOrganization, freePort, type OrganizationKeys, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(120_000);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  json: any;
}

interface CallOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** Local address to connect from (a different client for nginx). */
  from?: string;
}

/**
 * One request on a fresh connection, with the path sent exactly as given (fetch would normalize
 * dot segments) and from the given local address.
 */
function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const url = new URL(base);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false, localAddress: opts.from ?? "127.0.0.1" },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          let json: unknown = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path}: no answer in 20 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A failing assertion on a reply says what the server answered. */
function expectStatus(r: Reply, status: number): void {
  if (r.status !== status) throw new Error(`expected HTTP ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
}

/** Sends `text` as it is on a new connection; the status code and the body of the answer. */
function rawCall(base: string, text: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(text));
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (d) => {
      out += d;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = out.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body: rest.join("\r\n\r\n") });
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const SEED000_401 = { error: "Authentication required" };

describe("nginx in front of the built services", () => {
  let stack: Stack;
  let edge: Edge;
  let api: http.Server;
  /** Requests that reached the example API. */
  let apiHits = 0;
  let lastApiHeaders: http.IncomingHttpHeaders = {};
  const internalToken = `int_${randomBytes(24).toString("hex")}`;
  let orgA: { id: string };
  let orgB: { id: string };
  let keysA: OrganizationKeys;
  let keysB: OrganizationKeys;
  let guestA: { consumerId: string; sessionId: string; accessToken: string };
  let tokenB: string;
  /** Every key and token used: none may appear in nginx's access log. */
  const secrets: string[] = [internalToken];

  const gw = (method: string, path: string, opts?: CallOptions) => call(edge.url, method, path, opts);

  async function guest(key: string): Promise<{ consumerId: string; sessionId: string; accessToken: string }> {
    const r = await gw("POST", "/api/v1/auth/guest", { headers: { "x-publishable-key": key } });
    if (r.status !== 200 && r.status !== 201) throw new Error(`guest: ${r.status} ${r.text}`);
    secrets.push(r.json.accessToken, r.json.refreshToken);
    return { consumerId: r.json.session.consumerId, sessionId: r.json.session.sessionId, accessToken: r.json.accessToken };
  }

  const enter = (token: string | null, extra: Record<string, string> = {}, from?: string) =>
    gw("POST", "/api/v1/queues/queue_01HXYZ123456789/enter", {
      headers: { "x-publishable-key": keysA.publishable.test, ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      from,
    });

  beforeAll(async () => {
    stack = await startStack({
      services: ["admin-key", "consumer-auth", "webauthn-credential", "otp-delivery"],
      env: {
        // The token check's per-client budget, low enough to be used up below.
        "consumer-auth": { INTERNAL_INTROSPECTION_TOKEN: internalToken, RATE_LIMIT_GATEWAY_IP_PER_MINUTE: "40" },
        "otp-delivery": { DELIVERY_TRANSPORT: "dev" },
      },
    });
    api = createExampleApi({
      onRequest: (req) => {
        apiHits++;
        lastApiHeaders = req.headers;
      },
    });
    const apiAddress = await listen(api);
    const hostOf = (name: string) => new URL(stack.urls[name] ?? "").host;
    edge = await startNginx({
      vars: {
        CONSUMER_AUTH_UPSTREAM: hostOf("consumer-auth"),
        ADMIN_KEY_UPSTREAM: hostOf("admin-key"),
        WEBAUTHN_CREDENTIAL_UPSTREAM: hostOf("webauthn-credential"),
        OTP_DELIVERY_UPSTREAM: hostOf("otp-delivery"),
        PROTECTED_API_UPSTREAM: apiAddress,
        // A load balancer in front of nginx, at 127.0.0.2.
        EDGE_TRUSTED_PROXY: "127.0.0.2",
        EDGE_OTP_RATE: "1r/m",
        EDGE_OTP_BURST: "2",
      },
    });
    const a = await createOrganization(stack.urls["admin-key"] ?? "", stack.operatorToken, "nginx edge A");
    const b = await createOrganization(stack.urls["admin-key"] ?? "", stack.operatorToken, "nginx edge B");
    orgA = a.organization;
    orgB = b.organization;
    keysA = a.keys;
    keysB = b.keys;
    secrets.push(...Object.values(keysA.publishable), ...Object.values(keysA.secret), keysB.publishable.test);
    guestA = await guest(keysA.publishable.test);
    tokenB = (await guest(keysB.publishable.test)).accessToken;
  });

  afterAll(async () => {
    await edge?.stop();
    if (api) await close(api);
    await stack?.stop();
  });

  test("routes to each service: guest session, JWKS, admin API, passkey API; request ids pass both ways", async () => {
    // The guest sessions above came through nginx; the JWKS verifies them.
    const jwks = await gw("GET", "/.well-known/jwks.json");
    expectStatus(jwks, 200);
    expect(jwks.json.keys.length).toBeGreaterThan(0);
    expect(jwks.json.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });

    const org = await gw("GET", `/api/v1/organizations/${orgA.id}`, { headers: { authorization: `Bearer ${stack.operatorToken}` } });
    expectStatus(org, 200);
    expect(JSON.stringify(org.json)).toContain(orgA.id);

    // webauthn-credential's own answer (seed 003 wrapped), with its X-Request-Id: it got there.
    const passkey = await gw("POST", "/attestation/options", { body: {}, headers: { "x-request-id": "edge-e2e-1" } });
    expect(passkey.status).toBe(400);
    expect(passkey.json.result).toBeNull();
    expect(passkey.json.errors[0].code).toBe("InvalidAuthorizationHeader");
    expect(passkey.headers["x-request-id"]).toBe("edge-e2e-1");

    // nginx's own 404 on a passkey-style root path: wrapped, so the passkey SDKs can read it.
    const missing = await gw("POST", "/passkeys/v2/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ result: null, errors: [{ code: "EntityNotFound", message: "No service serves this path." }] });
    // nginx's own answers carry a request id too: its own, or the client's when well-formed.
    expect(missing.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    const tagged = await gw("GET", "/nothing-here", { headers: { "x-request-id": "edge-e2e-2" } });
    expect([tagged.status, tagged.headers["x-request-id"]]).toEqual([404, "edge-e2e-2"]);
    const badId = await gw("GET", "/.well-known/jwks.json", { headers: { "x-request-id": "no spaces allowed" } });
    expect(badId.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("the Admin API through the edge: the operator's X-Organization-Id/X-Mode reach the service, another organization sees nothing", async () => {
    // A real delivery: an OTP requested through the edge with organization A's test key.
    const email = `edge-admin-${randomBytes(4).toString("hex")}@example.com`;
    const requested = await gw("POST", "/api/v1/auth/otp/request", {
      headers: { "x-publishable-key": keysA.publishable.test },
      body: { email },
      from: "127.0.0.7",
    });
    expectStatus(requested, 200);
    const operator = (org: string, mode = "test") => ({
      authorization: `Bearer ${stack.operatorToken}`,
      "x-organization-id": org,
      "x-mode": mode,
    });
    let list: Reply | null = null;
    for (let i = 0; i < 100; i++) {
      list = await gw("GET", "/api/v1/otp-deliveries?channel=email", { headers: operator(orgA.id) });
      expectStatus(list, 200);
      if (list.json.data.some((d: { status: string }) => d.status === "sent")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(list?.json.data).toEqual([expect.objectContaining({ channel: "email", destination: `e***@example.com`, status: "sent" })]);
    expect(list?.text).not.toContain(email);
    const stats = await gw("GET", "/api/v1/stats/otp-deliveries?days=1", { headers: operator(orgA.id) });
    expectStatus(stats, 200);
    expect(stats.json.successRate).toBe(1);
    // Organization B, and organization A's live mode, see none of it.
    expect((await gw("GET", "/api/v1/otp-deliveries", { headers: operator(orgB.id) })).json).toEqual({ data: [], nextCursor: null });
    expect((await gw("GET", "/api/v1/otp-deliveries", { headers: operator(orgA.id, "live") })).json.data).toEqual([]);
    // Without the token: 401 in the service's format; the token without the scope headers: 400.
    const anonymous = await gw("GET", "/api/v1/otp-deliveries", { headers: { "x-organization-id": orgA.id, "x-mode": "test" } });
    expect([anonymous.status, anonymous.json]).toEqual([401, SEED000_401]);
    const unscoped = await gw("GET", "/api/v1/stats/otp-deliveries", { headers: { authorization: `Bearer ${stack.operatorToken}` } });
    expect([unscoped.status, unscoped.json.error]).toEqual([400, "validation_error"]);
    // consumer-auth's and webauthn-credential's Admin API through the edge too: organization A's
    // guest consumer (made through the edge above) is listed for A in test mode, never for B.
    const consumersA = await gw("GET", "/api/v1/consumers", { headers: operator(orgA.id) });
    expectStatus(consumersA, 200);
    expect(consumersA.json.data.map((c: { id: string }) => c.id)).toContain(guestA.consumerId);
    const consumersB = await gw("GET", "/api/v1/consumers", { headers: operator(orgB.id) });
    expectStatus(consumersB, 200);
    expect(consumersB.json.data.map((c: { id: string }) => c.id)).not.toContain(guestA.consumerId);
    for (const path of ["/api/v1/stats/consumers?days=1", "/api/v1/credentials", "/api/v1/stats/passkeys?days=1"]) {
      const r = await gw("GET", path, { headers: operator(orgA.id) });
      expect([path, r.status]).toEqual([path, 200]);
    }
    secrets.push(stack.operatorToken);
  });

  test("/dev/ is never routed, although otp-delivery serves it", async () => {
    const direct = await call(stack.urls["otp-delivery"] ?? "", "GET", "/dev/outbox?to=a%40example.com");
    expectStatus(direct, 200);
    for (const path of ["/dev/outbox?to=a%40example.com", "/dev", "/dev/"]) {
      const r = await gw("GET", path);
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ error: "not_found", message: "No service serves this path." });
    }
  });

  test("a valid token of the key's organization reaches the API, with the identity nginx took from the check", async () => {
    const before = apiHits;
    const r = await enter(guestA.accessToken);
    expectStatus(r, 200);
    expect(r.json).toMatchObject({
      queueId: "queue_01HXYZ123456789",
      entered: true,
      consumerId: guestA.consumerId,
      organizationId: orgA.id,
      sessionId: guestA.sessionId,
      mode: "test",
      forwardedFor: "127.0.0.1",
      realIp: "127.0.0.1",
    });
    expect(apiHits).toBe(before + 1);
  });

  test("another organization's token with this organization's key, no token, a forged token: 401, the API never sees them", async () => {
    const before = apiHits;
    const cases: Array<[string | null, Record<string, string>]> = [
      [tokenB, {}],
      [null, {}],
      [`${guestA.accessToken.slice(0, -4)}AAAA`, {}],
      // The right token without a key is bound to nothing.
      [guestA.accessToken, { "x-publishable-key": "" }],
      // The right token with another organization's key.
      [guestA.accessToken, { "x-publishable-key": keysB.publishable.test }],
      // The right organization's token with its live key (the token is a test-mode one).
      [guestA.accessToken, { "x-publishable-key": keysA.publishable.live }],
    ];
    for (const [token, extra] of cases) {
      const r = await enter(token, extra);
      expect(r.status).toBe(401);
      expect(r.json).toEqual(SEED000_401);
    }
    expect(apiHits).toBe(before);
  });

  test("a client cannot set the identity headers nor pass itself off as an internal caller", async () => {
    const forged = await enter(guestA.accessToken, {
      "x-consumer-id": "cons_forged",
      "x-organization-id": orgB.id,
      "x-session-id": "sess_forged",
      "x-mode": "live",
    });
    expectStatus(forged, 200);
    expect(forged.json).toMatchObject({
      consumerId: guestA.consumerId,
      organizationId: orgA.id,
      sessionId: guestA.sessionId,
      mode: "test",
    });

    // Identity headers without a token are not enough either.
    const noToken = await enter(null, { "x-consumer-id": guestA.consumerId, "x-organization-id": orgA.id, "x-mode": "test" });
    expect(noToken.status).toBe(401);

    // The internal caller headers with org B's token: consumer-auth itself would say yes...
    const internal = {
      authorization: `Bearer ${tokenB}`,
      "x-internal-token": internalToken,
      "x-organization-id": orgB.id,
      "x-mode": "test",
    };
    const direct = await call(stack.urls["consumer-auth"] ?? "", "GET", "/api/v1/auth/check", { headers: internal });
    expectStatus(direct, 200);
    // ...but nginx strips X-Internal-Token (and the scope headers) on the way to the check.
    const before = apiHits;
    const viaEdge = await gw("POST", "/api/v1/queues/queue_01HXYZ123456789/enter", { headers: internal });
    expect(viaEdge.status).toBe(401);
    expect(apiHits).toBe(before);
  });

  test("a browser's CORS preflight reaches the API without an identity; the request after it needs the token", async () => {
    const origin = "https://shop.example.com";
    const before = apiHits;
    const preflight = await gw("OPTIONS", "/api/v1/queues/queue_01HXYZ123456789/enter", {
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, x-publishable-key",
        // Forged: nginx must not pass it on, even here.
        "x-consumer-id": "cons_forged",
      },
    });
    expectStatus(preflight, 204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(origin);
    expect(apiHits).toBe(before + 1);
    for (const h of ["x-consumer-id", "x-organization-id", "x-session-id", "x-mode"])
      expect([h, lastApiHeaders[h]]).toEqual([h, undefined]);
    // Only OPTIONS passes without a token.
    for (const method of ["POST", "GET", "PUT", "DELETE", "PATCH"]) {
      const r = await gw(method, "/api/v1/queues/queue_01HXYZ123456789/enter", {
        headers: { origin, "x-publishable-key": keysA.publishable.test },
      });
      expect([method, r.status]).toEqual([method, 401]);
    }
    expect(apiHits).toBe(before + 1);
  });

  test("a logged-out session does not pass", async () => {
    const c = await guest(keysA.publishable.test);
    expectStatus(await enter(c.accessToken), 200);
    const logout = await gw("POST", "/api/v1/auth/logout", {
      headers: { authorization: `Bearer ${c.accessToken}`, "x-publishable-key": keysA.publishable.test },
    });
    expect(logout.status).toBe(204);
    const after = await enter(c.accessToken);
    expect(after.status).toBe(401);
    expect(after.json).toEqual(SEED000_401);
  });

  test("X-Forwarded-For is believed only from the trusted proxy, and only its last entry", async () => {
    const spoofed = await enter(guestA.accessToken, { "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" });
    expectStatus(spoofed, 200);
    expect(spoofed.json.forwardedFor).toBe("127.0.0.1");
    expect(spoofed.json.realIp).toBe("127.0.0.1");

    const viaProxy = await enter(guestA.accessToken, { "x-forwarded-for": "6.6.6.6, 203.0.113.7" }, "127.0.0.2");
    expectStatus(viaProxy, 200);
    expect(viaProxy.json.forwardedFor).toBe("203.0.113.7");
    expect(viaProxy.json.realIp).toBe("203.0.113.7");
  });

  test("consumer-auth counts the check per client address nginx determined; its 429 reaches the client", async () => {
    // A client at 127.0.0.3 makes up a new X-Forwarded-For each time: the service still sees one
    // client (nginx sends it 127.0.0.3), so its per-client check budget (40/min here) runs out.
    let limited: Reply | null = null;
    let passed = 0;
    for (let i = 0; i < 100 && !limited; i++) {
      const r = await enter(guestA.accessToken, { "x-forwarded-for": `198.51.100.${i}` }, "127.0.0.3");
      if (r.status === 429) limited = r;
      else {
        expectStatus(r, 200);
        passed++;
      }
    }
    if (!limited) throw new Error("no 429 in 100 requests from one client");
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(limited.json).toMatchObject({ error: "rate_limited", message: "Too many requests. Try again later." });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(limited.json.retryAfter).toBe(Number(limited.headers["retry-after"]));
    // Another client is not affected.
    expectStatus(await enter(guestA.accessToken), 200);
  });

  test("the edge OTP limit answers 429 in the API's format, whatever the spelling of the path", async () => {
    const from = "127.0.0.4";
    const otp = (path: string) => gw("POST", path, { headers: { "x-publishable-key": keysA.publishable.test }, body: {}, from });
    // Burst 2 at 1/min: three requests reach consumer-auth (which refuses the empty body itself).
    for (let i = 0; i < 3; i++) {
      const r = await otp("/api/v1/auth/otp/request");
      // consumer-auth's own refusal of the body.
      expect([r.status, r.json?.error]).toEqual([400, "validation_error"]);
    }
    for (const path of ["/api/v1/auth/otp/request", "/api/v1/auth/OTP/request/", "/api/v1/auth/otp/verify"]) {
      const r = await otp(path);
      expect(r.status).toBe(429);
      expect(r.headers["retry-after"]).toBe("1");
      expect(r.json).toEqual({ error: "rate_limited", message: "Too many requests. Try again later.", retryAfter: 1 });
    }
    // Other endpoints and other clients are not affected.
    expect((await gw("GET", "/.well-known/jwks.json", { from })).status).toBe(200);
    expect(
      (await gw("POST", "/api/v1/auth/otp/request", { headers: { "x-publishable-key": keysA.publishable.test }, body: {} })).status,
    ).not.toBe(429);
  });

  test("the access log has one JSON line per request, no key, token or query string", () => {
    const lines = edge
      .accessLog()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.client === "203.0.113.7" && l.peer === "127.0.0.2")).toBe(true);
    const text = edge.accessLog();
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toContain("to=a");
  });
});

describe("the nginx template routes exactly like the development gateway", () => {
  const SERVICES = ["consumer", "admin", "webauthn", "otp"] as const;
  const echoes: Record<string, http.Server> = {};
  const addresses: Record<string, string> = {};
  let edge: Edge;
  let dead: Edge;
  let gateway: http.Server;
  let gatewayUrl = "";

  beforeAll(async () => {
    for (const name of SERVICES) {
      echoes[name] = http.createServer((req, res) => {
        req.resume();
        // Never answers: the upstream timeout.
        if (req.url?.includes("/hang")) return;
        const seen = ["x-organization-id", "x-mode", "x-internal-token", "x-consumer-id", "x-session-id"];
        const text = req.url?.includes("/echo-headers")
          ? JSON.stringify({
              service: name,
              headers: Object.fromEntries(seen.filter((h) => h in req.headers).map((h) => [h, req.headers[h]])),
            })
          : JSON.stringify({ service: name, method: req.method, url: req.url });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(text);
      });
      addresses[name] = await listen(echoes[name]);
    }
    edge = await startNginx({
      vars: {
        CONSUMER_AUTH_UPSTREAM: addresses.consumer ?? "",
        ADMIN_KEY_UPSTREAM: addresses.admin ?? "",
        WEBAUTHN_CREDENTIAL_UPSTREAM: addresses.webauthn ?? "",
        OTP_DELIVERY_UPSTREAM: addresses.otp ?? "",
        PROTECTED_API_UPSTREAM: addresses.admin ?? "",
        EDGE_RATE: "1r/m",
        EDGE_BURST: "150",
        EDGE_UPSTREAM_TIMEOUT: "1s",
      },
    });
    const closed = async () => `127.0.0.1:${await freePort()}`;
    dead = await startNginx({
      vars: {
        CONSUMER_AUTH_UPSTREAM: await closed(),
        ADMIN_KEY_UPSTREAM: await closed(),
        WEBAUTHN_CREDENTIAL_UPSTREAM: await closed(),
        OTP_DELIVERY_UPSTREAM: await closed(),
        PROTECTED_API_UPSTREAM: await closed(),
      },
    });
    gateway = createGateway({
      targets: {
        consumer: `http://${addresses.consumer}`,
        admin: `http://${addresses.admin}`,
        webauthn: `http://${addresses.webauthn}`,
        otp: `http://${addresses.otp}`,
      },
      upstreamTimeoutMs: 1_000,
    });
    gatewayUrl = `http://${await listen(gateway)}`;
  });

  afterAll(async () => {
    await edge?.stop();
    await dead?.stop();
    if (gateway) await close(gateway);
    for (const s of Object.values(echoes)) await close(s);
  });

  test("every prefix, its sub-paths and its near misses go where the gateway sends them, with the same error bodies", async () => {
    const paths = new Set<string>([
      "/",
      "/api",
      "/api/",
      "/api/v1",
      "/.well-knownx",
      "/API/v1/auth/guest",
      "//api/v1/auth/guest",
      "/nothing",
    ]);
    for (const [prefix] of ROUTE_PREFIXES) {
      for (const p of [prefix, `${prefix}/`, `${prefix}/a/b?c=1&d=%2F`, `${prefix}x`, `${prefix}x/y`, `${prefix}?q=1`]) paths.add(p);
    }
    let routed = 0;
    for (const path of paths) {
      const viaGateway = await call(gatewayUrl, "GET", path);
      // From an address of its own: these ~140 requests stay within the edge's per-client burst.
      const viaNginx = await call(edge.url, "GET", path, { from: "127.0.0.6" });
      const expected = serviceOf(path.split("?")[0] ?? "");
      if (expected === null || path.startsWith("/dev")) {
        // Not routed (the gateway routes /dev to otp-delivery; nginx never does, only its Admin API).
        expect([path, viaNginx.status]).toEqual([path, 404]);
        expect(viaNginx.json).toEqual(gatewayErrorBody(path.split("?")[0] ?? "", "not_found", "No service serves this path."));
        if (expected === null) expect(viaNginx.json).toEqual(viaGateway.json);
      } else {
        routed++;
        expect([path, viaNginx.status, viaNginx.json]).toEqual([path, 200, { service: expected, method: "GET", url: path }]);
        expect(viaNginx.json).toEqual(viaGateway.json);
      }
    }
    // Every service prefix except /dev was tried at least four ways.
    expect(routed).toBeGreaterThanOrEqual((ROUTE_PREFIXES.length - 1) * 4);
  });

  test("the Admin API paths pass the operator's X-Organization-Id/X-Mode; the internal and identity headers never pass", async () => {
    const sent = {
      "x-organization-id": "org_01HXYZ0000000000000000000A",
      "x-mode": "live",
      "x-internal-token": "int_forged",
      "x-consumer-id": "cons_forged",
      "x-session-id": "sess_forged",
    };
    const scope = { "x-organization-id": sent["x-organization-id"], "x-mode": "live" };
    for (const [prefix, service] of [
      ["/api/v1/consumers", "consumer"],
      ["/api/v1/stats/consumers", "consumer"],
      ["/api/v1/credentials", "webauthn"],
      ["/api/v1/stats/passkeys", "webauthn"],
      ["/api/v1/otp-deliveries", "otp"],
      ["/api/v1/stats/otp-deliveries", "otp"],
    ] as const) {
      const r = await call(edge.url, "GET", `${prefix}/echo-headers`, { headers: sent, from: "127.0.0.8" });
      expect([prefix, r.status, r.json]).toEqual([prefix, 200, { service, headers: scope }]);
    }
    // Everywhere else the scope headers are stripped too (only the token check may set them).
    for (const [path, service] of [
      ["/api/v1/keys/echo-headers", "admin"],
      ["/dashboard/echo-headers", "admin"],
      ["/api/v1/auth/echo-headers", "consumer"],
    ] as const) {
      const r = await call(edge.url, "GET", path, { headers: sent, from: "127.0.0.8" });
      expect([path, r.status, r.json]).toEqual([path, 200, { service, headers: {} }]);
    }
  });

  test("dot segments and encoded separators: 400 in the path's format, like the gateway", async () => {
    for (const path of [
      "/api/v1/auth/../organizations",
      "/api/v1/auth/%2e%2e/keys",
      "/attestation/..%2Fcredential",
      "/credential/a%5Cb",
      "/sdk/./x",
    ]) {
      const viaGateway = await call(gatewayUrl, "GET", path);
      const viaNginx = await call(edge.url, "GET", path);
      expect([path, viaNginx.status]).toEqual([path, 400]);
      expect(viaNginx.json).toEqual(gatewayErrorBody(path, "bad_request", "Malformed request path."));
      expect(viaNginx.json).toEqual(viaGateway.json);
    }
  });

  test("requests nginx cannot read or will not pass on: JSON errors in the path's format, never nginx's HTML", async () => {
    const seed000 = (error: string, message: string) => ({ error, message });
    const wrapped = (message: string) => ({ result: null, errors: [{ code: "InvalidInput", message }] });
    const cases: Array<[string, number, unknown]> = [
      [
        "TRACE /api/v1/keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        405,
        seed000("method_not_allowed", "This method is not allowed."),
      ],
      [
        `GET /api/v1/keys HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(9_000)}\r\nConnection: close\r\n\r\n`,
        400,
        seed000("bad_request", "The request could not be read."),
      ],
      ["GET /credential/find HTTP/1.1\r\nConnection: close\r\n\r\n", 400, wrapped("The request could not be read.")],
      ["NOT AN HTTP REQUEST\r\n\r\n", 400, wrapped("The request could not be read.")],
      [
        `GET /credential/${"a".repeat(9_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        414,
        wrapped("The request path is too long."),
      ],
    ];
    for (const [text, status, body] of cases) {
      const r = await rawCall(edge.url, text);
      expect([text.slice(0, 30), r.status, JSON.parse(r.body)]).toEqual([text.slice(0, 30), status, body]);
    }
  });

  test("an upstream that does not answer: 504 in the path's format, like the gateway", async () => {
    for (const path of ["/api/v1/keys/hang", "/assertion/hang"]) {
      const viaNginx = await call(edge.url, "GET", path);
      expect([path, viaNginx.status]).toEqual([path, 504]);
      expect(viaNginx.json).toEqual(gatewayErrorBody(path, "gateway_timeout", "The upstream service did not answer in time."));
      expect(viaNginx.json).toEqual((await call(gatewayUrl, "GET", path)).json);
    }
  });

  test("an upstream that is down: 503 with Retry-After in the path's format, also when the token check is down", async () => {
    for (const path of [
      "/api/v1/auth/guest",
      "/.well-known/jwks.json",
      "/api/v1/keys",
      "/credential/find",
      "/demo/",
      "/api/v1/otp-deliveries",
      "/api/v1/consumers",
      "/api/v1/credentials",
      "/dashboard/",
    ]) {
      const r = await call(dead.url, "POST", path);
      expect([path, r.status, r.headers["retry-after"]]).toEqual([path, 503, "1"]);
      expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
      expect(r.json).toEqual(gatewayErrorBody(path, "service_unavailable", "The upstream service is unavailable."));
    }
    const protectedApi = await call(dead.url, "POST", "/api/v1/queues/q1/enter", {
      headers: { authorization: "Bearer x", "x-publishable-key": "pk_test_x" },
    });
    expect([protectedApi.status, protectedApi.headers["retry-after"]]).toEqual([503, "1"]);
    expect(protectedApi.json).toEqual({ error: "service_unavailable", message: "The upstream service is unavailable." });
  });

  test("a body over 1 MB: 413 in the path's format", async () => {
    for (const [path, body] of [
      ["/api/v1/keys", { error: "payload_too_large", message: "The request body is too large." }],
      ["/credential/create", { result: null, errors: [{ code: "InvalidInput", message: "The request body is too large." }] }],
    ] as const) {
      // Only the headers: nginx answers on the Content-Length alone.
      const r = await new Promise<Reply>((resolve, reject) => {
        const u = new URL(edge.url);
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            method: "POST",
            path,
            agent: false,
            headers: { "content-length": "2000000", "content-type": "application/json" },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d) => {
              text += d;
            });
            res.on("end", () => {
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) });
              req.destroy();
            });
          },
        );
        req.on("error", reject);
        req.flushHeaders();
      });
      expect([path, r.status]).toEqual([path, 413]);
      expect(r.json).toEqual(body);
    }
  });

  test("the per-client edge limit answers 429 in each path's format, to that client only", async () => {
    const from = "127.0.0.5";
    let passed = 0;
    let limited: Reply | null = null;
    for (let i = 0; i < 200 && !limited; i++) {
      const r = await call(edge.url, "GET", "/credential/x", { from });
      if (r.status === 429) limited = r;
      else passed++;
    }
    if (!limited) throw new Error("no 429 in 200 requests from one client");
    // Burst 150 at 1/min: at least 151 went through first.
    expect(passed).toBeGreaterThanOrEqual(151);
    expect(limited.headers["retry-after"]).toBe("1");
    expect(limited.json).toEqual({ result: null, errors: [{ code: "TooManyRequests", message: "Too many requests. Try again later." }] });
    const api = await call(edge.url, "GET", "/api/v1/keys", { from });
    expect(api.status).toBe(429);
    expect(api.json).toEqual({ error: "rate_limited", message: "Too many requests. Try again later.", retryAfter: 1 });
    expect((await call(edge.url, "GET", "/credential/x")).status).toBe(200);
  });
});
