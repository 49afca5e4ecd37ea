/**
 * Seed 000 end to end, through the gateway, against the REAL built services running as child
 * processes (admin-key, consumer-auth, otp-delivery) on the machine's Postgres/Redis/NATS.
 * Each step asserts the seed's request/response shapes; the steps share one organization.
 */
import { createPublicKey, verify as verifySignature } from "node:crypto";
import { createOrganization, type OrganizationKeys, type Stack, startStack } from "../src/stack.mjs";

let stack: Stack;
let gw: string;
let org: { id: string; name: string };
let keys: OrganizationKeys;
/** Every key, token and code the suite saw; none may appear in any service's log output. */
const secrets = new Set<string>();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  json: any;
}

async function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${gw}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  collectSecrets(json);
  return { status: res.status, headers: res.headers, text, json };
}

function collectSecrets(v: unknown): void {
  if (v === null || typeof v !== "object") return;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === "string" && /token|code|^(live|test)$/i.test(k) && val.length >= 6) secrets.add(val);
    else collectSecrets(val);
  }
}

/** A failing assertion on a reply says what the server answered. */
function expectStatus(r: Reply, ...statuses: number[]) {
  if (!statuses.includes(r.status)) throw new Error(`expected HTTP ${statuses.join("/")}, got ${r.status}: ${r.text.slice(0, 500)}`);
}

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h ?? "", "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(p ?? "", "base64url").toString("utf8")),
  };
}

/** Seed 000 session response: `{ session: {type, consumerId, expiresAt, …}, accessToken, refreshToken }`. */
function expectSessionShape(r: Reply, type: "guest" | "otp" | "external") {
  expectStatus(r, 200, 201);
  const b = r.json;
  expect(b.session.type).toBe(type);
  expect(typeof b.session.consumerId).toBe("string");
  expect(b.session.expiresAt).toMatch(ISO);
  expect(Date.parse(b.session.expiresAt)).toBeGreaterThan(Date.now());
  expect(b.accessToken).toMatch(JWT);
  expect(typeof b.refreshToken).toBe("string");
  expect(b.refreshToken.length).toBeGreaterThanOrEqual(20);
  const { header, payload } = decodeJwt(b.accessToken);
  expect(header.alg).toBe("EdDSA");
  expect(header.typ).toBe("JWT");
  expect(typeof header.kid).toBe("string");
  // Token structure of seed 000.
  expect(payload.consumerId).toBe(b.session.consumerId);
  expect(payload.organizationId).toBe(org.id);
  expect(payload.sessionId).toMatch(/^sess_/);
  expect(typeof payload.iat).toBe("number");
  expect(payload.exp).toBe((payload.iat as number) + 3600); // default access lifetime 1 h
  return b;
}

/** Polls otp-delivery's dev outbox (through the gateway) for the newest message to `to`. */
async function readOutboxCode(to: string, channel: "email" | "sms"): Promise<string> {
  const deadline = Date.now() + 15_000;
  let last = "";
  for (;;) {
    const r = await call("GET", `/dev/outbox?to=${encodeURIComponent(to)}`);
    last = `${r.status} ${r.text.slice(0, 300)}`;
    if (r.status === 200 && Array.isArray(r.json?.messages) && r.json.messages.length > 0) {
      const m = r.json.messages[0];
      expect(m.channel).toBe(channel);
      expect(m.to).toBe(to);
      expect(m.code).toMatch(/^\d{6}$/);
      expect(m.text).toContain(m.code);
      expect(typeof m.id).toBe("string");
      expect(m.createdAt).toMatch(ISO);
      return m.code as string;
    }
    if (Date.now() > deadline) throw new Error(`no message to ${to} in the dev outbox after 15 s (last: ${last})`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

beforeAll(async () => {
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery"],
    gateway: true,
    // debug: the request lines too, so the no-secret-in-logs check below has something to read.
    logLevel: "debug",
    keepOutput: true,
    env: { "otp-delivery": { DELIVERY_TRANSPORT: "dev" } },
  });
  gw = stack.gatewayUrl;
  const created = await createOrganization(gw, stack.operatorToken, "Acme E2E");
  org = created.organization;
  keys = created.keys;
  for (const k of [keys.publishable.live, keys.publishable.test, keys.secret.live, keys.secret.test]) secrets.add(k);
  secrets.add(stack.operatorToken);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe("seed 000 through the gateway", () => {
  test("operator API created the organization with four keys", () => {
    expect(org.id).toMatch(/^org_/);
    expect(org.name).toBe("Acme E2E");
    expect(keys.publishable.live).toMatch(/^pk_live_[A-Za-z0-9]{22,}$/);
    expect(keys.publishable.test).toMatch(/^pk_test_[A-Za-z0-9]{22,}$/);
    expect(keys.secret.live).toMatch(/^sk_live_[A-Za-z0-9]{22,}$/);
    expect(keys.secret.test).toMatch(/^sk_test_[A-Za-z0-9]{22,}$/);
  });

  test("the operator API refuses a wrong operator token", async () => {
    const r = await call("POST", "/api/v1/organizations", { headers: { authorization: "Bearer nope" }, body: { name: "X" } });
    expect(r.status).toBe(401);
  });

  test("guest session, then refresh, then logout (204) and the refresh is refused", async () => {
    const guest = await call("POST", "/api/v1/auth/guest", { headers: { "x-publishable-key": keys.publishable.live } });
    const g = expectSessionShape(guest, "guest");
    expect(g.session.consumerId).toMatch(/^guest_/);
    expect(g.session.guestId).toBe(g.session.consumerId);

    const refreshed = await call("POST", "/api/v1/auth/refresh", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { refreshToken: g.refreshToken },
    });
    expectStatus(refreshed, 200);
    expect(refreshed.json.accessToken).toMatch(JWT);
    expect(typeof refreshed.json.refreshToken).toBe("string");
    expect(refreshed.json.refreshToken).not.toBe(g.refreshToken);
    expect(decodeJwt(refreshed.json.accessToken).payload.sessionId).toBe(decodeJwt(g.accessToken).payload.sessionId);

    const logout = await call("POST", "/api/v1/auth/logout", { headers: { authorization: `Bearer ${refreshed.json.accessToken}` } });
    expect(logout.status).toBe(204);
    expect(logout.text).toBe("");

    const after = await call("POST", "/api/v1/auth/refresh", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { refreshToken: refreshed.json.refreshToken },
    });
    expect(after.status).toBe(401);
    expect(typeof after.json?.error).toBe("string");

    // The logged-out access token is dead at once for the gateway check and introspection.
    const check = await call("GET", "/api/v1/auth/check", {
      headers: { authorization: `Bearer ${refreshed.json.accessToken}`, "x-publishable-key": keys.publishable.live },
    });
    expect(check.status).toBe(401);
    const intro = await call("POST", "/api/v1/auth/introspect", {
      headers: { authorization: `Bearer ${keys.secret.live}` },
      body: { token: refreshed.json.accessToken },
    });
    expectStatus(intro, 200);
    expect(intro.json).toEqual({ active: false });
  });

  test("a guest without a publishable key gets the seed's 401", async () => {
    const r = await call("POST", "/api/v1/auth/guest");
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: "Authentication required" });
  });

  test("external authorize (secret key) + exchange (publishable key), single use", async () => {
    const auth = await call("POST", "/api/v1/auth/external/authorize", {
      headers: { authorization: `Bearer ${keys.secret.live}` },
      body: {
        provider: "your-platform",
        issuer: "https://your-domain.com",
        subject: "user_123456",
        claims: { email: ["john", "your-domain.com"].join("@"), name: "John Doe" },
      },
    });
    expectStatus(auth, 200, 201);
    expect(auth.json.exchangeCode).toMatch(/^exc_/);
    expect(auth.json.expiresAt).toMatch(ISO);
    const ttl = Date.parse(auth.json.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(61_000);

    // A publishable key where the secret one is required.
    const wrongKey = await call("POST", "/api/v1/auth/external/authorize", {
      headers: { authorization: `Bearer ${keys.publishable.live}` },
      body: { provider: "p", issuer: "i", subject: "s" },
    });
    expect(wrongKey.status).toBe(403);
    expect(wrongKey.json).toEqual({ error: "Secret key required" });

    // The code of live mode is refused with the test-mode key.
    const otherMode = await call("POST", "/api/v1/auth/external/exchange", {
      headers: { "x-publishable-key": keys.publishable.test },
      body: { exchangeCode: auth.json.exchangeCode },
    });
    expect(otherMode.status).toBeGreaterThanOrEqual(400);
    expect(otherMode.status).toBeLessThan(500);

    const ex = await call("POST", "/api/v1/auth/external/exchange", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { exchangeCode: auth.json.exchangeCode },
    });
    const s = expectSessionShape(ex, "external");
    expect(s.session.consumerId).toMatch(/^cons_/);

    const replay = await call("POST", "/api/v1/auth/external/exchange", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { exchangeCode: auth.json.exchangeCode },
    });
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
  });

  test("JWKS verifies a token; introspect and /auth/check describe it", async () => {
    const guest = await call("POST", "/api/v1/auth/guest", { headers: { "x-publishable-key": keys.publishable.live } });
    const g = expectSessionShape(guest, "guest");
    const { header, payload } = decodeJwt(g.accessToken);

    const jwks = await call("GET", "/.well-known/jwks.json");
    expectStatus(jwks, 200);
    expect(jwks.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(Array.isArray(jwks.json.keys)).toBe(true);
    for (const k of jwks.json.keys) {
      expect(k.kty).toBe("OKP");
      expect(k.crv).toBe("Ed25519");
      expect(k.d).toBeUndefined(); // never the private part
    }
    const jwk = jwks.json.keys.find((k: { kid: string }) => k.kid === header.kid);
    expect(jwk).toBeDefined();
    const [h, p, sig] = g.accessToken.split(".");
    const ok = verifySignature(
      null,
      Buffer.from(`${h}.${p}`),
      createPublicKey({ key: jwk, format: "jwk" }),
      Buffer.from(sig ?? "", "base64url"),
    );
    expect(ok).toBe(true);

    const intro = await call("POST", "/api/v1/auth/introspect", {
      headers: { authorization: `Bearer ${keys.secret.live}` },
      body: { token: g.accessToken },
    });
    expectStatus(intro, 200);
    expect(intro.json).toEqual({
      active: true,
      consumerId: g.session.consumerId,
      organizationId: org.id,
      sessionId: payload.sessionId,
      mode: "live",
      exp: payload.exp,
    });

    // A tampered token is inactive, not an error.
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, consumerId: "cons_evil" })).toString("base64url")}.${sig}`;
    const bad = await call("POST", "/api/v1/auth/introspect", {
      headers: { authorization: `Bearer ${keys.secret.live}` },
      body: { token: tampered },
    });
    expectStatus(bad, 200);
    expect(bad.json).toEqual({ active: false });

    // The gateway check binds the token to the client's X-Publishable-Key (seed 000: both are sent).
    const check = await call("GET", "/api/v1/auth/check", {
      headers: { authorization: `Bearer ${g.accessToken}`, "x-publishable-key": keys.publishable.live },
    });
    expect(check.status).toBe(200);
    expect(check.headers.get("x-consumer-id")).toBe(g.session.consumerId);
    expect(check.headers.get("x-organization-id")).toBe(org.id);
    expect(check.headers.get("x-session-id")).toBe(payload.sessionId);

    const none = await call("GET", "/api/v1/auth/check");
    expect(none.status).toBe(401);
    const unbound = await call("GET", "/api/v1/auth/check", { headers: { authorization: `Bearer ${g.accessToken}` } });
    expect(unbound.status).toBe(401);
    const otherMode = await call("GET", "/api/v1/auth/check", {
      headers: { authorization: `Bearer ${g.accessToken}`, "x-publishable-key": keys.publishable.test },
    });
    expect(otherMode.status).toBe(401);
    const forged = await call("GET", "/api/v1/auth/check", {
      headers: { authorization: `Bearer ${tampered}`, "x-publishable-key": keys.publishable.live },
    });
    expect(forged.status).toBe(401);
  });

  test("OTP by email: request -> dev outbox -> verify -> session", async () => {
    const typed = "  E2E.Alice@Example.COM ";
    // Built from parts: this address must be exactly the lowercased, trimmed form of `typed`.
    const email = ["e2e.alice", "example.com"].join("@");
    const req = await call("POST", "/api/v1/auth/otp/request", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { email: typed },
    });
    expectStatus(req, 200);
    expect(req.json).toEqual({ ok: true });

    const code = await readOutboxCode(email, "email");

    const wrong = await call("POST", "/api/v1/auth/otp/verify", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { email, code: code === "000000" ? "111111" : "000000" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: "otp_invalid", message: "Invalid verification code. Please try again." });

    const ok = await call("POST", "/api/v1/auth/otp/verify", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { email, code },
    });
    const s = expectSessionShape(ok, "otp");
    expect(s.session.consumerId).toMatch(/^cons_/);
    expect(s.session.email).toBe(email);

    // Single use.
    const again = await call("POST", "/api/v1/auth/otp/verify", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { email, code },
    });
    expect(again.status).toBe(401);
  });

  test("OTP by phone in national format with defaultCountry: outbox at E.164 -> verify -> session", async () => {
    const req = await call("POST", "/api/v1/auth/otp/request", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { phone: "(202) 555-1234", defaultCountry: "US" },
    });
    expectStatus(req, 200);
    expect(req.json).toEqual({ ok: true });

    const code = await readOutboxCode("+12025551234", "sms");

    const ok = await call("POST", "/api/v1/auth/otp/verify", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { phone: "(202) 555-1234", code, defaultCountry: "US" },
    });
    const s = expectSessionShape(ok, "otp");
    expect(s.session.consumerId).toMatch(/^cons_/);
    expect(s.session.phone).toBe("+12025551234");
  });

  test("an invalid phone number is a 400, never a 500", async () => {
    const r = await call("POST", "/api/v1/auth/otp/request", {
      headers: { "x-publishable-key": keys.publishable.live },
      body: { phone: "12", defaultCountry: "US" },
    });
    expect(r.status).toBe(400);
    expect(typeof r.json?.error).toBe("string");
  });
});

describe("API reference through the gateway (issue 11 item 4)", () => {
  test("the merged /openapi.json and /docs include consumer-auth's routes, and only the ones the gateway sends it", async () => {
    const res = await fetch(`${gw}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { info: { description: string }; paths: Record<string, Record<string, unknown>> };
    const consumer = Object.keys(doc.paths).filter((p) => p.startsWith("/api/v1/auth") || p.startsWith("/.well-known"));
    expect(consumer.sort()).toEqual(
      [
        "/.well-known/jwks.json",
        "/api/v1/auth/check",
        "/api/v1/auth/external/authorize",
        "/api/v1/auth/external/exchange",
        "/api/v1/auth/guest",
        "/api/v1/auth/introspect",
        "/api/v1/auth/logout",
        "/api/v1/auth/otp/request",
        "/api/v1/auth/otp/verify",
        "/api/v1/auth/refresh",
      ].sort(),
    );
    expect(Object.keys(doc.paths["/api/v1/auth/check"] ?? {})).toEqual(["get"]);
    expect(doc.info.description).not.toContain("consumer-auth");
    // A service's own /healthz or /openapi.json is not claimed for the gateway's origin.
    expect(doc.paths["/healthz"]).toBeUndefined();
    const page = await fetch(`${gw}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/api/v1/auth/otp/verify");
  });
});

describe("logs", () => {
  test("no key, token or code the suite handled appears in any service's output", async () => {
    // Give the services a moment to flush the lines of the last requests.
    await new Promise((r) => setTimeout(r, 300));
    const codes = [...secrets].filter((s) => /^\d{6}$/.test(s));
    // The dev outbox answered the OTP codes on purpose (dev transport); the service logs must not.
    expect(codes.length).toBeGreaterThanOrEqual(2);
    expect(secrets.size).toBeGreaterThan(10);
    for (const name of ["admin-key", "consumer-auth", "otp-delivery", "gateway"]) {
      const out = stack.allOutput(name);
      if (name !== "gateway") expect(out.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        const found = /^\d{6}$/.test(secret) ? new RegExp(`(^|\\D)${secret}(\\D|$)`).test(out) : out.includes(secret);
        if (found) throw new Error(`${name} logged a secret (${secret.slice(0, 8)}…)`);
      }
    }
  });
});
