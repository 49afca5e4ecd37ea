import http from "node:http";
import type { AddressInfo } from "node:net";
import { createGateway, errorStyleOf, type GatewayTargets, ROUTE_PREFIXES, route } from "../src/main.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny upstream that records what it received and answers with its own name. */
async function startUpstream(name: string): Promise<{ url: string; seen: Seen[]; server: http.Server }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/api/v1/auth/teapot")) {
        res.writeHead(418, { "content-type": "application/json", "x-upstream-custom": "kept" });
        res.end(JSON.stringify({ error: "teapot", echo: body }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-upstream": name });
      res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

async function freeClosedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let upstreams: Record<keyof GatewayTargets, Awaited<ReturnType<typeof startUpstream>>>;
let gateway: http.Server;
let base: string;
let downGateway: http.Server;
let downBase: string;

beforeAll(async () => {
  upstreams = {
    consumer: await startUpstream("consumer"),
    admin: await startUpstream("admin"),
    otp: await startUpstream("otp"),
    webauthn: await startUpstream("webauthn"),
  };
  const targets: GatewayTargets = {
    consumer: upstreams.consumer.url,
    admin: upstreams.admin.url,
    otp: upstreams.otp.url,
    webauthn: upstreams.webauthn.url,
  };
  gateway = createGateway({ targets });
  await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;

  const dead = `http://127.0.0.1:${await freeClosedPort()}`;
  downGateway = createGateway({ targets: { consumer: dead, admin: dead, otp: dead, webauthn: dead } });
  await new Promise<void>((r) => downGateway.listen(0, "127.0.0.1", r));
  downBase = `http://127.0.0.1:${(downGateway.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of [gateway, downGateway, ...Object.values(upstreams).map((u) => u.server)]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe("routing table (issue 2)", () => {
  const expected: Array<[string, keyof GatewayTargets]> = [
    ["/api/v1/auth/guest", "consumer"],
    ["/api/v1/auth/otp/request", "consumer"],
    ["/api/v1/auth/check", "consumer"],
    ["/api/v1/auth", "consumer"],
    ["/.well-known/jwks.json", "consumer"],
    ["/api/v1/organizations", "admin"],
    ["/api/v1/organizations/org_123", "admin"],
    ["/api/v1/keys", "admin"],
    ["/api/v1/keys/key_1/rotate", "admin"],
    ["/dashboard", "admin"],
    ["/dashboard/organizations/org_1/settings", "admin"],
    ["/attestation/options", "webauthn"],
    ["/assertion/process", "webauthn"],
    ["/registration/verify", "webauthn"],
    ["/credential/create", "webauthn"],
    ["/auth/verify", "webauthn"],
    ["/dev/outbox", "otp"],
    // Issue 14: the Admin API endpoints the dashboard calls, and the dashboard itself.
    ["/api/v1/consumers", "consumer"],
    ["/api/v1/consumers/con_1/sessions/revoke", "consumer"],
    ["/api/v1/stats/consumers", "consumer"],
    ["/api/v1/credentials", "webauthn"],
    ["/api/v1/credentials/cred_1/deactivate", "webauthn"],
    ["/api/v1/stats/passkeys", "webauthn"],
    ["/api/v1/otp-deliveries", "otp"],
    ["/api/v1/stats/otp-deliveries", "otp"],
    ["/dashboard/", "admin"],
    ["/dashboard/organizations/org_1", "admin"],
    ["/demo/consumer/", "consumer"],
    ["/demo/consumer/sdk.js", "consumer"],
    ["/demo/", "webauthn"],
    ["/demo/consumerx", "webauthn"],
  ];

  test.each(expected)("%s is served by %s, end to end", async (path, name) => {
    const res = await fetch(`${base}${path}?x=1`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-upstream")).toBe(name);
    const body = (await res.json()) as { url: string };
    // The path and query reach the service unchanged (no prefix stripping).
    expect(body.url).toBe(`${path}?x=1`);
  });

  test("prefixes match on segment boundaries only", () => {
    const t: GatewayTargets = { consumer: "C", admin: "A", otp: "O", webauthn: "W" };
    expect(route("/api/v1/authx", t)).toBeNull();
    expect(route("/api/v1/auth-admin/x", t)).toBeNull();
    expect(route("/api/v1/organizationsX", t)).toBeNull();
    expect(route("/devtools", t)).toBeNull();
    expect(route("/api/v1/stats", t)).toBeNull();
    expect(route("/api/v1/stats/other", t)).toBeNull();
    expect(route("/api/v1/otp-deliveriesx", t)).toBeNull();
    expect(route("/api/v1/consumersx", t)).toBeNull();
    expect(route("/dashboardx", t)).toBeNull();
    expect(route("/auth/verifyx", t)).toBeNull();
    expect(route("/auth", t)).toBeNull();
    expect(route("/", t)).toBeNull();
    expect(route("/api/v1/auth/", t)).toBe("C");
    // Every prefix in the table routes to a real target.
    for (const [prefix, name] of ROUTE_PREFIXES) expect(route(prefix, t)).toBe(t[name]);
  });

  test("unknown paths answer 404 JSON without touching any upstream", async () => {
    const before = Object.values(upstreams).reduce((n, u) => n + u.seen.length, 0);
    for (const path of ["/api/v1/authx", "/api/v2/auth/guest", "/api"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ error: "not_found", message: "No service serves this path." });
    }
    expect(Object.values(upstreams).reduce((n, u) => n + u.seen.length, 0)).toBe(before);
  });

  test("dot segments cannot smuggle a request to another service", async () => {
    const before = upstreams.admin.seen.length + upstreams.consumer.seen.length;
    for (const path of ["/api/v1/auth/../organizations", "/api/v1/auth/%2e%2e/organizations", "/api/v1/auth/..%2Forganizations"]) {
      // fetch normalizes dot segments itself, so speak raw HTTP.
      const status = await new Promise<number>((resolve, reject) => {
        const r = http.request(`${base}/`, { path, method: "GET" }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on("error", reject);
        r.end();
      });
      expect(status).toBe(400);
    }
    expect(upstreams.admin.seen.length + upstreams.consumer.seen.length).toBe(before);
  });
});

describe("forwarding", () => {
  test("every request gets an X-Request-Id, passed to the service and returned; a well-formed one from the client is kept", async () => {
    const fresh = await fetch(`${base}/api/v1/auth/guest`, { method: "POST" });
    const id = fresh.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstreams.consumer.seen.at(-1)?.headers["x-request-id"]).toBe(id);

    const kept = await fetch(`${base}/api/v1/auth/guest`, { method: "POST", headers: { "x-request-id": "client-req-42" } });
    expect(kept.headers.get("x-request-id")).toBe("client-req-42");
    expect(upstreams.consumer.seen.at(-1)?.headers["x-request-id"]).toBe("client-req-42");

    // Anything else is replaced (it would end up in every service's log lines).
    const odd = await fetch(`${base}/api/v1/auth/guest`, { method: "POST", headers: { "x-request-id": "a b;<script>" } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstreams.consumer.seen.at(-1)?.headers["x-request-id"]).toBe(odd.headers.get("x-request-id"));
    // The gateway's own errors carry one too.
    expect((await fetch(`${base}/nowhere`)).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("appends the client address to X-Forwarded-For and sets proto/host", async () => {
    await fetch(`${base}/api/v1/auth/guest`, { method: "POST" });
    let last = upstreams.consumer.seen.at(-1);
    expect(last?.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(last?.headers["x-forwarded-proto"]).toBe("http");
    expect(last?.headers["x-forwarded-host"]).toBe(new URL(base).host);

    await fetch(`${base}/api/v1/auth/guest`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.7" } });
    last = upstreams.consumer.seen.at(-1);
    // A client-supplied chain is kept, and the address the gateway saw is appended last, so the
    // service (trusting only the gateway hop) uses 127.0.0.1 here, never the spoofed value.
    expect(last?.headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
  });

  test("method, headers and body reach the upstream; status, headers and body come back", async () => {
    const payload = JSON.stringify({ email: "[email protected]", big: "x".repeat(200_000) });
    const res = await fetch(`${base}/api/v1/auth/teapot`, {
      method: "PUT",
      body: payload,
      headers: { "content-type": "application/json", "x-publishable-key": "pk_test_abc", authorization: "Bearer t" },
    });
    expect(res.status).toBe(418);
    expect(res.headers.get("x-upstream-custom")).toBe("kept");
    const body = (await res.json()) as { error: string; echo: string };
    expect(body.error).toBe("teapot");
    expect(body.echo).toBe(payload);
    const last = upstreams.consumer.seen.at(-1);
    expect(last?.method).toBe("PUT");
    expect(last?.headers["x-publishable-key"]).toBe("pk_test_abc");
    expect(last?.headers.authorization).toBe("Bearer t");
    expect(last?.body).toBe(payload);
  });

  test("a 204 from upstream stays a bodiless 204", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gw = createGateway({ targets: { consumer: url, admin: url, otp: url, webauthn: url } });
    await new Promise<void>((r) => gw.listen(0, "127.0.0.1", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(gw.address() as AddressInfo).port}/api/v1/auth/logout`, { method: "POST" });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
    } finally {
      for (const s of [gw, server]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    }
  });

  test("an upstream that is down answers 503 JSON with Retry-After", async () => {
    const res = await fetch(`${downBase}/api/v1/auth/guest`, { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({ error: "service_unavailable", message: "The upstream service is unavailable." });
  });

  test("an upstream that does not answer in time gives 504 JSON", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const hang = http.createServer(() => {
      /* never answers */
    });
    hang.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const gw = createGateway({ targets: { consumer: url, admin: url, otp: url, webauthn: url }, upstreamTimeoutMs: 300 });
    await new Promise<void>((r) => gw.listen(0, "127.0.0.1", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(gw.address() as AddressInfo).port}/api/v1/auth/check`);
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: string }).error).toBe("gateway_timeout");
    } finally {
      for (const s of sockets) s.destroy();
      for (const s of [gw, hang]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    }
  });

  test("/healthz is the gateway's own", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});

/**
 * What the passkey server SDKs do with an answer (issue 8 item 7). The PHP SDK (`Client::makeApiCall`)
 * decodes JSON, requires a `result` key, and on `result: null` requires a non-empty `errors` list
 * whose first entry has `code` and `message`; anything else throws MalformedResponse. The Node SDK
 * returns `{ok: response.ok, ...json}` and its README reads `errors.length`.
 */
function asPhpSdkReadsIt(
  status: number,
  text: string,
): { coded: { code: string; message: string; status: number } } | { malformed: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return { malformed: "Received non-JSON response" };
  }
  if (!decoded || typeof decoded !== "object" || Array.isArray(decoded) || !("result" in decoded))
    return { malformed: "Received JSON in an unexpected format" };
  const d = decoded as { result: unknown; errors?: unknown };
  if (d.result !== null) return { malformed: "not an error" };
  if (!Array.isArray(d.errors) || d.errors.length === 0) return { malformed: "Error details are invalid or empty" };
  const first = d.errors[0] as { code?: unknown; message?: unknown };
  if (typeof first?.code !== "string" || typeof first.message !== "string") return { malformed: "Error details are invalid or empty" };
  return { coded: { code: first.code, message: first.message, status } };
}

/** A server-SDK request: POST, JSON, Basic auth with the secret key as the password, X-SDK. */
function sdkRequest(url: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    body: JSON.stringify({ token: "atn_x" }),
    headers: {
      authorization: `Basic ${Buffer.from(":secret_sk_test_abc").toString("base64")}`,
      accept: "application/json",
      "content-type": "application/json",
      "x-sdk": "php/0.3.0",
    },
  });
}

/** Raw HTTP so that dot segments reach the gateway as sent (fetch would normalize them). */
function rawRequest(gatewayBase: string, path: string): Promise<{ status: number; text: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(`${gatewayBase}/`, { path, method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, contentType: String(res.headers["content-type"]) }));
    });
    r.on("error", reject);
    r.end("{}");
  });
}

describe("the gateway's own errors on passkey paths are wrapped {result: null, errors} (issue 8)", () => {
  test("which paths get which format", () => {
    for (const p of ["/auth/verify", "/registration/attach", "/credential/find", "/attestation/options", "/assertion/x", "/nope", "/"])
      expect([p, errorStyleOf(p)]).toEqual([p, "passkey"]);
    for (const p of [
      "/api/v1/auth/guest",
      "/api/v1/keys",
      "/api/v2/x",
      "/api",
      "/.well-known/jwks.json",
      "/dev/outbox",
      "/api/v1/consumers",
      "/api/v1/otp-deliveries",
      "/api/v1/stats/otp-deliveries",
      "/dashboard/",
    ])
      expect([p, errorStyleOf(p)]).toEqual([p, "seed000"]);
  });

  test("404: a root path no service serves (e.g. an older SDK's /auth/createOptions) is EntityNotFound, readable by the SDKs", async () => {
    for (const path of ["/auth/createOptions", "/nope", "/auth/verifyx"]) {
      const res = await sdkRequest(`${base}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const text = await res.text();
      expect(asPhpSdkReadsIt(res.status, text)).toEqual({
        coded: { code: "EntityNotFound", message: "No service serves this path.", status: 404 },
      });
      // Node SDK: `{ok, ...json}`; its README checks `errors.length`.
      const node = { ok: res.ok, ...(JSON.parse(text) as object) } as { ok: boolean; result: unknown; errors: unknown[] };
      expect(node.ok).toBe(false);
      expect(node.result).toBeNull();
      expect(node.errors.length).toBe(1);
    }
  });

  test("400: a malformed passkey path is InvalidInput; a malformed /api path keeps {error, message}", async () => {
    for (const path of ["/auth/verify/../../api/v1/keys", "/credential/%2e%2e/api/v1/keys", "/registration/..%2Fattach"]) {
      const r = await rawRequest(base, path);
      expect(r.status).toBe(400);
      expect(r.contentType).toMatch(/^application\/json/);
      expect(asPhpSdkReadsIt(r.status, r.text)).toEqual({
        coded: { code: "InvalidInput", message: "Malformed request path.", status: 400 },
      });
    }
    const seed000 = await rawRequest(base, "/api/v1/auth/../organizations");
    expect([seed000.status, JSON.parse(seed000.text)]).toEqual([400, { error: "bad_request", message: "Malformed request path." }]);
  });

  test("503: the passkey service down is InternalError with Retry-After, readable by the SDKs", async () => {
    const before = upstreams.webauthn.seen.length;
    const res = await sdkRequest(`${downBase}/auth/verify`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(asPhpSdkReadsIt(res.status, await res.text())).toEqual({
      coded: { code: "InternalError", message: "The upstream service is unavailable.", status: 503 },
    });
    expect(upstreams.webauthn.seen.length).toBe(before);
  });

  test("504: the passkey service not answering in time is InternalError, readable by the SDKs", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const hang = http.createServer(() => {
      /* never answers */
    });
    hang.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    const gw = createGateway({ targets: { consumer: url, admin: url, otp: url, webauthn: url }, upstreamTimeoutMs: 300 });
    await new Promise<void>((r) => gw.listen(0, "127.0.0.1", r));
    try {
      const res = await sdkRequest(`http://127.0.0.1:${(gw.address() as AddressInfo).port}/registration/attach`);
      expect(res.status).toBe(504);
      expect(asPhpSdkReadsIt(res.status, await res.text())).toEqual({
        coded: { code: "InternalError", message: "The upstream service did not answer in time.", status: 504 },
      });
    } finally {
      for (const s of sockets) s.destroy();
      for (const s of [gw, hang]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    }
  });

  test("the consumer API's gateway errors keep seed 000's {error, message}", async () => {
    const res = await fetch(`${downBase}/api/v1/auth/guest`, { method: "POST" });
    expect([res.status, await res.json()]).toEqual([
      503,
      { error: "service_unavailable", message: "The upstream service is unavailable." },
    ]);
  });
});

describe("several instances of a service (comma-separated URLs, issue 12)", () => {
  let one: Awaited<ReturnType<typeof startUpstream>>;
  let two: Awaited<ReturnType<typeof startUpstream>>;
  const gateways: http.Server[] = [];

  async function gatewayFor(consumer: string): Promise<string> {
    const gw = createGateway({ targets: { consumer, admin: consumer, otp: consumer, webauthn: consumer } });
    await new Promise<void>((r) => gw.listen(0, "127.0.0.1", r));
    gateways.push(gw);
    return `http://127.0.0.1:${(gw.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    one = await startUpstream("one");
    two = await startUpstream("two");
  });

  afterAll(async () => {
    for (const s of [...gateways, one.server, two.server]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test("requests go round-robin over the instances", async () => {
    const gw = await gatewayFor(`${one.url}, ${two.url}`);
    const served: string[] = [];
    for (let i = 0; i < 6; i++) served.push((await fetch(`${gw}/api/v1/auth/check`)).headers.get("x-upstream") ?? "");
    expect(served.filter((n) => n === "one")).toHaveLength(3);
    expect(served.filter((n) => n === "two")).toHaveLength(3);
  });

  test("an instance that refuses connections is skipped: every request, body included, reaches the live one", async () => {
    const dead = `http://127.0.0.1:${await freeClosedPort()}`;
    const gw = await gatewayFor(`${dead},${two.url}`);
    const before = two.seen.length;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw}/api/v1/auth/otp/request`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: i, pad: "x".repeat(20_000) }),
      });
      expect(res.status).toBe(200);
      const echoed = (await res.json()) as { upstream: string; body: string };
      expect(echoed.upstream).toBe("two");
      expect(JSON.parse(echoed.body)).toEqual({ n: i, pad: "x".repeat(20_000) });
    }
    // Each request reached the live instance exactly once.
    expect(two.seen.length - before).toBe(4);
  });

  test("every instance refusing answers the usual 503", async () => {
    const gw = await gatewayFor(`http://127.0.0.1:${await freeClosedPort()},http://127.0.0.1:${await freeClosedPort()}`);
    const res = await fetch(`${gw}/api/v1/auth/guest`, { method: "POST", body: "{}" });
    expect([res.status, await res.json()]).toEqual([
      503,
      { error: "service_unavailable", message: "The upstream service is unavailable." },
    ]);
  });

  test("a bad URL in the list stops the gateway at start-up", () => {
    expect(() => createGateway({ targets: { consumer: "http://127.0.0.1:1,not a url", admin: "", otp: "", webauthn: "" } })).toThrow();
  });
});

describe("merged OpenAPI document and reference page (issue 11 item 4)", () => {
  const op = (summary: string, scheme?: string) => ({
    operationId: summary.replace(/\W/g, ""),
    summary,
    security: scheme ? [{ [scheme]: [] }] : [],
    responses: { "200": { description: "OK" } },
  });
  const documents: Record<string, object> = {
    webauthn: {
      openapi: "3.1.0",
      info: { title: "passkeys", version: "1" },
      paths: {
        "/auth/verify": { post: op("Verify a token", "passkeySecretKey") },
        "/healthz": { get: op("Liveness") },
        "/openapi.json": { get: op("Document") },
      },
      components: { securitySchemes: { passkeySecretKey: { type: "http", scheme: "basic" } } },
    },
    admin: {
      openapi: "3.1.0",
      info: { title: "admin", version: "1" },
      paths: { "/api/v1/keys": { get: op("List keys", "adminSecretKey") }, "/healthz": { get: op("Liveness") } },
      components: { securitySchemes: { adminSecretKey: { type: "http", scheme: "bearer" } } },
    },
  };
  let servers: http.Server[];
  let docsBase: string;
  let docsGateway: http.Server;

  beforeAll(async () => {
    const serve = async (doc: object | null) => {
      const s = http.createServer((_req, res) => {
        if (!doc) {
          res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
      });
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      return s;
    };
    servers = [await serve(documents.webauthn ?? null), await serve(documents.admin ?? null), await serve(null)];
    const [w, a, c] = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    const dead = `http://127.0.0.1:${await freeClosedPort()}`;
    docsGateway = createGateway({ targets: { webauthn: w as string, admin: a as string, consumer: c as string, otp: dead } });
    await new Promise<void>((r) => docsGateway.listen(0, "127.0.0.1", r));
    docsBase = `http://127.0.0.1:${(docsGateway.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [...servers, docsGateway]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test("GET /openapi.json merges the services' documents, keeping of each only the paths the gateway routes to it", async () => {
    const res = await fetch(`${docsBase}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { description: string };
      paths: object;
      components: { securitySchemes: object };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(["/api/v1/keys", "/auth/verify"]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminSecretKey", "passkeySecretKey"]);
    // A service without a document (404) or down is left out, and said so.
    expect(doc.info.description).toMatch(/Not included \(no document from\): consumer-auth, otp-delivery\./);
  });

  test("GET /docs renders the merged document as one page without scripts or external resources", async () => {
    const res = await fetch(`${docsBase}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain("/api/v1/keys");
    expect(html).toContain("/auth/verify");
    expect(html).not.toMatch(/<script|<link/i);
  });
});
