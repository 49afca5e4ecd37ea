/**
 * Dependency faults and bad input across the REAL built services (admin-key, consumer-auth,
 * webauthn-credential as child processes). Each service reaches Postgres, Redis and NATS only
 * through a controllable TCP proxy (src/fault-proxy.mjs), which can cut (connections destroyed,
 * new ones refused) or blackhole (accepted, nothing forwarded: the hang case) a dependency.
 *
 * The rule proven: bad input gets a clear 4xx in the API's own format and changes nothing; a
 * fault in Postgres, Redis or NATS gets a clear 503 (own format, Retry-After) within BOUND_MS,
 * never a hang, never a 500; /readyz names the failing dependency; after the dependency comes
 * back everything works again without restarting anything; and no acknowledged write is lost.
 *
 * BOUND_MS = 5 s: the services' own client-side bounds are Redis 1.5 s per command (two commands
 * on /check), Postgres 2 s to connect + 3 s per query (pg query_timeout), NATS request 2 s,
 * JetStream publish ack 3 s. 5 s is the largest single bound plus scheduling margin on this
 * 2-core machine; it is a hang detector, not a performance target (measured values are printed).
 */
import { connectJetStream, type NatsHandles } from "@authplane/service-kit";
import { type FaultProxy, startFaultProxy } from "../src/fault-proxy.mjs";
import { PgClient, type PgClientLike } from "../src/pg.mjs";
import { type OrganizationKeys, type Stack, startStack } from "../src/stack.mjs";

const BOUND_MS = 5_000;
/** A request still unanswered after this is a hang (recorded as status 0). */
const HANG_MS = 15_000;
const ORIGIN = "https://app.example.com";
const RP = { rpId: "example.com", rpName: "Example", origins: [ORIGIN] };

type Dep = "postgres" | "redis" | "nats";
type Fault = "cut" | "blackhole";

let stack: Stack;
let proxies: Record<Dep, FaultProxy>;
let keys: OrganizationKeys;
let db: PgClientLike;
let nats: NatsHandles;
let CA: string;
let AK: string;
let WA: string;
let emailSeq = 0;
/** Measured 503 latencies: `dep/fault endpoint -> ms`. */
const measured: Array<{ dep: Dep; fault: Fault; endpoint: string; ms: number; status: number }> = [];

interface Reply {
  status: number;
  ms: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  json: any;
}

async function call(url: string, init: RequestInit & { jsonBody?: unknown } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.jsonBody !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.jsonBody);
  }
  const t0 = Date.now();
  try {
    const res = await fetch(url, { ...init, headers, body, signal: AbortSignal.timeout(HANG_MS) });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, ms: Date.now() - t0, headers: res.headers, text, json };
  } catch (err) {
    // A hang (or a crashed service): status 0, which no assertion accepts.
    return { status: 0, ms: Date.now() - t0, headers: new Headers(), text: String((err as Error).message), json: null };
  }
}

const basicPk = (pk: string) => `Basic ${Buffer.from(`${pk}:`).toString("base64")}`;

/** The calls under test, each a thunk so a test can run them all at once during a fault. */
function endpoints(freshPk: string) {
  return {
    "guest (cached key)": () =>
      call(`${CA}/api/v1/auth/guest`, { method: "POST", headers: { "x-publishable-key": keys.publishable.live } }),
    // A key consumer-auth has never seen: it must ask admin-key over NATS (keys.v1.verify).
    "guest (fresh key)": () => call(`${CA}/api/v1/auth/guest`, { method: "POST", headers: { "x-publishable-key": freshPk } }),
    "otp/request": () =>
      call(`${CA}/api/v1/auth/otp/request`, {
        method: "POST",
        headers: { "x-publishable-key": keys.publishable.live },
        jsonBody: { email: `fault${emailSeq++}@example.com` },
      }),
    "admin GET /keys": () => call(`${AK}/api/v1/keys`, { headers: { authorization: `Bearer ${keys.secret.live}` } }),
    "webauthn attestation/options": () =>
      call(`${WA}/attestation/options`, {
        method: "POST",
        headers: { authorization: basicPk(keys.publishable.live), origin: ORIGIN },
        jsonBody: { upgrade: false },
      }),
  };
}

async function guestSession(): Promise<{ accessToken: string; refreshToken: string; sessionId: string }> {
  const r = await call(`${CA}/api/v1/auth/guest`, { method: "POST", headers: { "x-publishable-key": keys.publishable.live } });
  if (r.status !== 200) throw new Error(`guest: ${r.status} ${r.text}`);
  return { accessToken: r.json.accessToken, refreshToken: r.json.refreshToken, sessionId: r.json.session.sessionId };
}

const check = (token: string) =>
  call(`${CA}/api/v1/auth/check`, { headers: { authorization: `Bearer ${token}`, "x-publishable-key": keys.publishable.live } });

async function freshPublishableKey(): Promise<string> {
  const r = await call(`${AK}/api/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${keys.secret.live}` },
    jsonBody: { kind: "publishable" },
  });
  if (r.status !== 201) throw new Error(`create key: ${r.status} ${r.text}`);
  return r.json.value as string;
}

/** Seed 000 (consumer-auth, admin-key) 503. */
function expectSeed503(r: Reply, what: string) {
  if (r.status !== 503) throw new Error(`${what}: expected 503, got ${r.status} after ${r.ms} ms: ${r.text.slice(0, 300)}`);
  expect(r.json).toEqual({ error: "service_unavailable", message: expect.stringMatching(/unavailable/) });
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.ms).toBeLessThan(BOUND_MS);
}

/** Seed 003 wrapped (webauthn-credential) 503. */
function expectWrapped503(r: Reply, what: string) {
  if (r.status !== 503) throw new Error(`${what}: expected 503, got ${r.status} after ${r.ms} ms: ${r.text.slice(0, 300)}`);
  expect(r.json.result).toBeNull();
  expect(r.json.errors).toHaveLength(1);
  expect(typeof r.json.errors[0].code).toBe("string");
  expect(r.json.errors[0].message).toMatch(/unavailable/);
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.ms).toBeLessThan(BOUND_MS);
}

async function eventually<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Rows per table of a service schema (every table), to prove that bad input wrote nothing. */
async function rowCounts(service: string): Promise<Record<string, number>> {
  const schema = stack.iso.schema(service);
  const { rows } = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    [schema],
  );
  const out: Record<string, number> = {};
  for (const { table_name } of rows) {
    const c = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}"."${table_name}"`);
    out[table_name] = Number(c.rows[0]?.n ?? -1);
  }
  return out;
}

/** Recipients (`data.to`) of every OTP job in consumer-auth's OTP stream. */
async function otpStreamRecipients(): Promise<Set<string>> {
  const name = stack.iso.subjects.otpStream;
  const info = await nats.jsm.streams.info(name);
  const out = new Set<string>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await nats.jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m) out.add((m.json() as { data: { to: string } }).data.to);
  }
  return out;
}

async function otpStreamCount(): Promise<number> {
  const info = await nats.jsm.streams.info(stack.iso.subjects.otpStream).catch(() => null);
  return info?.state.messages ?? 0;
}

beforeAll(async () => {
  proxies = {
    postgres: await startFaultProxy({ port: 5432, name: "postgres" }),
    redis: await startFaultProxy({ port: 6379, name: "redis" }),
    nats: await startFaultProxy({ port: 4222, name: "nats" }),
  };
  const iso = {
    databaseUrl: "postgresql://postgres@127.0.0.1:5432/postgres",
    redis: "redis://127.0.0.1:6379",
    nats: "nats://127.0.0.1:4222",
  };
  const viaProxy = {
    DATABASE_URL: proxies.postgres.url(process.env.TEST_DATABASE_URL ?? iso.databaseUrl),
    REDIS_URL: proxies.redis.url(process.env.TEST_REDIS_URL ?? iso.redis),
    NATS_URL: proxies.nats.url(process.env.TEST_NATS_URL ?? iso.nats),
  };
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "webauthn-credential"],
    env: {
      "admin-key": { ...viaProxy, RATE_LIMIT_IP_PER_MINUTE: "100000" },
      // Many requests from one client with one publishable key, OTP to distinct addresses: lift the
      // per-IP and per-(key, client) budgets.
      "consumer-auth": {
        ...viaProxy,
        RATE_LIMIT_IP_PER_MINUTE: "100000",
        RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "100000",
        OTP_IP_REQUESTS_PER_HOUR: "100000",
      },
      "webauthn-credential": viaProxy,
    },
  });
  CA = stack.urls["consumer-auth"] ?? "";
  AK = stack.urls["admin-key"] ?? "";
  WA = stack.urls["webauthn-credential"] ?? "";
  const created = await call(`${AK}/api/v1/organizations`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.operatorToken}` },
    jsonBody: { name: "Faults E2E", webauthn: RP },
  });
  if (created.status !== 201) throw new Error(`create organization: ${created.status} ${created.text}`);
  keys = created.json.keys;
  // The test's own connections go to the real servers, never through the proxies.
  db = new PgClient({ connectionString: stack.iso.databaseUrl });
  await db.connect();
  nats = await connectJetStream(stack.iso.natsUrl, "faults-e2e");
}, 90_000);

afterAll(async () => {
  if (measured.length) {
    const lines = measured.map((m) => `${m.dep.padEnd(8)} ${m.fault.padEnd(9)} ${m.endpoint.padEnd(32)} ${m.status} ${m.ms} ms`);
    console.log(`503 latencies (bound ${BOUND_MS} ms):\n${lines.join("\n")}`);
  }
  await nats?.nc.close().catch(() => {});
  await db?.end().catch(() => {});
  // Forward again so the services shut down cleanly, then stop everything.
  for (const p of Object.values(proxies ?? {})) await p.restore().catch(() => {});
  await stack?.stop();
  for (const p of Object.values(proxies ?? {})) await p.close();
}, 60_000);

/** Which calls must be 503 for each dependency (the others must merely not fail badly). */
const AFFECTED: Record<Dep, string[]> = {
  // The cached key needs no NATS/admin-key; the guest insert needs Postgres. admin-key looks keys up in Postgres.
  postgres: ["guest (cached key)", "admin GET /keys"],
  // Rate limits, revocation list, OTP codes and WebAuthn challenges all live in Redis.
  redis: ["guest (cached key)", "check", "otp/request", "admin GET /keys", "webauthn attestation/options"],
  // A fresh key must be verified over NATS; an OTP request needs the JetStream ack of its job.
  nats: ["guest (fresh key)", "otp/request"],
};

describe.each<[Dep, Fault]>([
  ["postgres", "cut"],
  ["postgres", "blackhole"],
  ["redis", "cut"],
  ["redis", "blackhole"],
  ["nats", "cut"],
  ["nats", "blackhole"],
])("%s %s", (dep, fault) => {
  test("affected endpoints answer 503 in their own format, nothing 500s or hangs, /readyz names it, and all recovers", async () => {
    const session = await guestSession();
    const freshPk = await freshPublishableKey();
    const eps = { ...endpoints(freshPk), check: () => check(session.accessToken) };
    // Healthy first (also warms pools and the key caches of the services for the cached key).
    for (const [name, fn] of Object.entries(eps)) {
      if (name === "guest (fresh key)") continue; // must stay unknown to consumer-auth until the fault
      const r = await fn();
      if (r.status !== 200) throw new Error(`before the fault, ${name}: ${r.status} ${r.text}`);
    }

    const proxy = proxies[dep];
    if (fault === "cut") await proxy.cut();
    else proxy.blackhole();
    try {
      const names = Object.keys(eps) as Array<keyof typeof eps>;
      const replies = await Promise.all(names.map((n) => eps[n]()));
      for (const [i, name] of names.entries()) {
        const r = replies[i] as Reply;
        if (![200, 503].includes(r.status))
          throw new Error(`${name} during ${dep} ${fault}: ${r.status} after ${r.ms} ms: ${r.text.slice(0, 300)}`);
        expect(r.ms).toBeLessThan(BOUND_MS);
        if (r.status === 503) {
          measured.push({ dep, fault, endpoint: name, ms: r.ms, status: r.status });
          if (name.startsWith("webauthn")) expectWrapped503(r, name);
          else expectSeed503(r, name);
        }
        if (AFFECTED[dep].includes(name) && r.status !== 503)
          throw new Error(`${name} must be 503 during ${dep} ${fault}, got ${r.status}: ${r.text.slice(0, 200)}`);
      }
      // /readyz of every service reports this dependency, within its own 1.5 s check bound.
      const readies = await Promise.all([CA, AK, WA].map((u) => call(`${u}/readyz`)));
      for (const r of readies) {
        expect(r.status).toBe(503);
        expect(r.json.status).toBe("unavailable");
        expect(r.json.checks[dep]).not.toBe("ok");
        for (const other of (["postgres", "redis", "nats"] as Dep[]).filter((d) => d !== dep)) {
          if (other in r.json.checks) expect(r.json.checks[other]).toBe("ok");
        }
        expect(r.ms).toBeLessThan(BOUND_MS);
        measured.push({ dep, fault, endpoint: "/readyz", ms: r.ms, status: r.status });
      }
    } finally {
      await proxy.restore();
    }

    // Recovery without restarting anything: every call works again, all services are ready.
    const t0 = Date.now();
    for (const [name, fn] of Object.entries(eps)) {
      await eventually(`${name} after ${dep} ${fault} restore`, async () => ((await fn()).status === 200 ? true : null));
    }
    for (const u of [CA, AK, WA]) await eventually(`${u}/readyz`, async () => ((await call(`${u}/readyz`)).status === 200 ? true : null));
    measured.push({ dep, fault, endpoint: "(recovered: all 200)", ms: Date.now() - t0, status: 200 });
    // The session made before the fault survived it.
    const refreshed = await call(`${CA}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "x-publishable-key": keys.publishable.live },
      jsonBody: { refreshToken: session.refreshToken },
    });
    expect(refreshed.status).toBe(200);
  }, 60_000);
});

/** Runs `fn` in `concurrency` loops until `stop` resolves; returns every reply in order. */
async function stream<T>(concurrency: number, stop: Promise<void>, fn: () => Promise<T>): Promise<T[]> {
  let done = false;
  void stop.then(() => {
    done = true;
  });
  const out: T[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done) out.push(await fn());
    }),
  );
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("never a lost acknowledged write", () => {
  test("guest sessions while Postgres is cut, restored, blackholed, restored: every 200 is a usable session", async () => {
    const schedule = (async () => {
      await sleep(700);
      await proxies.postgres.cut();
      await sleep(1_500);
      await proxies.postgres.restore();
      await sleep(1_000);
      proxies.postgres.blackhole();
      await sleep(1_500);
      await proxies.postgres.restore();
      await sleep(1_000);
    })();
    const replies = await stream(4, schedule, () =>
      call(`${CA}/api/v1/auth/guest`, { method: "POST", headers: { "x-publishable-key": keys.publishable.live } }),
    );
    const ok = replies.filter((r) => r.status === 200);
    const failed = replies.filter((r) => r.status !== 200);
    for (const r of failed) {
      expectSeed503(r, "guest during Postgres faults");
    }
    // The run really crossed the faults: some writes were refused, many acknowledged.
    expect(failed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(10);
    const ids = ok.map((r) => r.json.session.sessionId as string);
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "${stack.iso.schema("consumer-auth")}".sessions WHERE id = ANY($1)`, [
      ids,
    ]);
    expect(rows.length).toBe(ids.length);
    // Every acknowledged session is usable: its refresh token works (one at a time, to stay gentle).
    for (const r of ok) {
      const ref = await call(`${CA}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "x-publishable-key": keys.publishable.live },
        jsonBody: { refreshToken: r.json.refreshToken },
      });
      if (ref.status !== 200) throw new Error(`refresh of acknowledged session ${r.json.session.sessionId}: ${ref.status} ${ref.text}`);
    }
  }, 60_000);

  test("OTP requests while NATS is cut, restored, blackholed, restored: every {ok:true} has its job in the OTP stream", async () => {
    const schedule = (async () => {
      await sleep(700);
      await proxies.nats.cut();
      await sleep(1_500);
      await proxies.nats.restore();
      await sleep(1_500);
      proxies.nats.blackhole();
      await sleep(1_500);
      await proxies.nats.restore();
      await sleep(1_500);
    })();
    const replies = await stream(3, schedule, async () => {
      const email = `stream${emailSeq++}@example.com`;
      const r = await call(`${CA}/api/v1/auth/otp/request`, {
        method: "POST",
        headers: { "x-publishable-key": keys.publishable.live },
        jsonBody: { email },
      });
      return { email, r };
    });
    const ok = replies.filter((x) => x.r.status === 200);
    const failed = replies.filter((x) => x.r.status !== 200);
    for (const x of failed) expectSeed503(x.r, "otp/request during NATS faults");
    for (const x of ok) expect(x.r.json).toEqual({ ok: true });
    expect(failed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(5);
    const inStream = await otpStreamRecipients();
    const lost = ok.filter((x) => !inStream.has(x.email)).map((x) => x.email);
    expect(lost).toEqual([]);
  }, 60_000);
});

describe("bad input: a 4xx in the API's own format, and nothing written", () => {
  const huge = JSON.stringify({ email: "a@example.com", pad: "x".repeat(200_000) });

  test("consumer-auth (seed 000 format)", async () => {
    const before = await rowCounts("consumer-auth");
    const otpBefore = await otpStreamCount();
    const pk = { "x-publishable-key": keys.publishable.live, "content-type": "application/json" };
    const cases: Array<[string, RequestInit, number]> = [
      ["/api/v1/auth/otp/request", { method: "POST", headers: pk, body: "{not json" }, 400],
      ["/api/v1/auth/otp/request", { method: "POST", headers: pk, body: JSON.stringify({ email: 42 }) }, 400],
      ["/api/v1/auth/otp/request", { method: "POST", headers: pk, body: JSON.stringify(["a@example.com"]) }, 400],
      ["/api/v1/auth/otp/request", { method: "POST", headers: pk, body: huge }, 413],
      ["/api/v1/auth/otp/verify", { method: "POST", headers: pk, body: JSON.stringify({ email: "a@example.com", code: 123456 }) }, 400],
      ["/api/v1/auth/refresh", { method: "POST", headers: pk, body: JSON.stringify({ refreshToken: { $ne: null } }) }, 400],
      ["/api/v1/auth/external/exchange", { method: "POST", headers: pk, body: "[[[" }, 400],
      ["/api/v1/auth/guest", { method: "POST", headers: pk, body: huge }, 413],
      [
        "/api/v1/auth/external/authorize",
        {
          method: "POST",
          headers: { authorization: `Bearer ${keys.secret.live}`, "content-type": "application/json" },
          body: JSON.stringify({ provider: 1, subject: [] }),
        },
        400,
      ],
    ];
    for (const [path, init, status] of cases) {
      const r = await call(`${CA}${path}`, init);
      if (r.status !== status)
        throw new Error(`${path} ${String(init.body).slice(0, 40)}: expected ${status}, got ${r.status}: ${r.text.slice(0, 200)}`);
      expect(typeof r.json?.error).toBe("string");
      expect(r.json.result).toBeUndefined();
    }
    expect(await rowCounts("consumer-auth")).toEqual(before);
    expect(await otpStreamCount()).toBe(otpBefore);
  });

  test("admin-key (seed 000 format)", async () => {
    const before = await rowCounts("admin-key");
    const sk = { authorization: `Bearer ${keys.secret.live}`, "content-type": "application/json" };
    const op = { authorization: `Bearer ${stack.operatorToken}`, "content-type": "application/json" };
    const cases: Array<[string, RequestInit, number]> = [
      ["/api/v1/keys", { method: "POST", headers: sk, body: "{" }, 400],
      ["/api/v1/keys", { method: "POST", headers: sk, body: JSON.stringify({ kind: 42 }) }, 400],
      ["/api/v1/keys", { method: "POST", headers: sk, body: JSON.stringify({ kind: "root" }) }, 400],
      ["/api/v1/keys", { method: "POST", headers: sk, body: huge }, 413],
      [
        "/api/v1/organizations/current/settings",
        { method: "PATCH", headers: sk, body: JSON.stringify({ accessTokenTtlSeconds: "forever" }) },
        400,
      ],
      ["/api/v1/organizations", { method: "POST", headers: op, body: JSON.stringify({ name: "" }) }, 400],
      ["/api/v1/organizations", { method: "POST", headers: op, body: JSON.stringify({ name: { x: 1 } }) }, 400],
      ["/api/v1/organizations", { method: "POST", headers: op, body: "nul" }, 400],
    ];
    for (const [path, init, status] of cases) {
      const r = await call(`${AK}${path}`, init);
      if (r.status !== status)
        throw new Error(`${path} ${String(init.body).slice(0, 40)}: expected ${status}, got ${r.status}: ${r.text.slice(0, 200)}`);
      expect(typeof r.json?.error).toBe("string");
    }
    expect(await rowCounts("admin-key")).toEqual(before);
  });

  test("webauthn-credential (seed 003 wrapped format)", async () => {
    const before = await rowCounts("webauthn-credential");
    const client = { authorization: basicPk(keys.publishable.live), origin: ORIGIN, "content-type": "application/json" };
    const server = { authorization: `Basic ${Buffer.from(`:${keys.secret.live}`).toString("base64")}`, "content-type": "application/json" };
    const cases: Array<[string, RequestInit, number]> = [
      ["/attestation/options", { method: "POST", headers: client, body: "{oops" }, 400],
      ["/attestation/options", { method: "POST", headers: client, body: JSON.stringify({ upgrade: "yes" }) }, 400],
      ["/attestation/process", { method: "POST", headers: client, body: JSON.stringify({ credential: "not-an-object" }) }, 400],
      ["/assertion/process", { method: "POST", headers: client, body: huge }, 413],
      ["/credential/create", { method: "POST", headers: server, body: JSON.stringify({ user: 5 }) }, 400],
      ["/registration/attach", { method: "POST", headers: server, body: JSON.stringify({ token: ["x"], user: { id: 1 } }) }, 400],
      ["/credential/find", { method: "POST", headers: server, body: "]" }, 400],
    ];
    for (const [path, init, status] of cases) {
      const r = await call(`${WA}${path}`, init);
      if (r.status !== status)
        throw new Error(`${path} ${String(init.body).slice(0, 40)}: expected ${status}, got ${r.status}: ${r.text.slice(0, 200)}`);
      expect(r.json.result).toBeNull();
      expect(typeof r.json.errors?.[0]?.code).toBe("string");
      expect(typeof r.json.errors?.[0]?.message).toBe("string");
    }
    expect(await rowCounts("webauthn-credential")).toEqual(before);
  });
});
