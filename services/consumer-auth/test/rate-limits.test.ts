import { randomBytes } from "node:crypto";
import { startWorld, type World, request } from "./helpers.js";

/**
 * Issue 10 items 1-3 from the attacker's side, with small limits: the gateway endpoints are
 * throttled before any key lookup or signature check, IPv6 clients count per /64, and a few
 * clients at their own publishable-key budget do not exhaust the organization's.
 */
let w: World;
let counter: { unsubscribe(): void };
/** Every keys.v1.verify request consumer-auth sent (the upstream lookups). */
const lookups: string[] = [];

beforeAll(async () => {
  w = await startWorld({
    env: {
      RATE_LIMIT_IP_PER_MINUTE: "4",
      RATE_LIMIT_GATEWAY_IP_PER_MINUTE: "6",
      RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "3",
      RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "100",
    },
  });
  // A plain subscription on the request subject sees every request (admin-key answers them).
  counter = w.ca.deps.nc.subscribe(w.iso.subjects.keysVerify, {
    callback: (_err, msg) => {
      lookups.push(msg.json<{ key: string }>().key);
    },
  });
  await w.ca.deps.nc.flush();
}, 60_000);

afterAll(async () => {
  counter.unsubscribe();
  await w.stop();
});

beforeEach(() => {
  lookups.length = 0;
});

const randomKey = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`;
const settle = () => w.ca.deps.nc.flush();

describe("floods of unknown keys on the gateway endpoints", () => {
  it("/check: one lookup per distinct unknown key, and 429 before any lookup past the per-IP limit", async () => {
    const ip = "203.0.113.10";
    const keys = [randomKey("pk_live_"), randomKey("pk_live_"), randomKey("pk_test_")];
    const check = (pk: string) =>
      request(w.ca.app)
        .get("/api/v1/auth/check")
        .set("X-Forwarded-For", ip)
        .set("X-Publishable-Key", pk)
        .set("Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.AAAA");
    for (const pk of [...keys, ...keys]) expect((await check(pk)).status).toBe(401);
    await settle();
    expect(lookups.length).toBe(3);
    for (let i = 0; i < 4; i++) {
      const r = await check(randomKey("pk_live_"));
      expect(r.status).toBe(429);
      expect(r.body.error).toBe("rate_limited");
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
    }
    await settle();
    expect(lookups.length).toBe(3);
  });

  it("/introspect: random sk_ keys past the per-IP limit get 429 without a lookup", async () => {
    const introspect = () =>
      request(w.ca.app)
        .post("/api/v1/auth/introspect")
        .set("X-Forwarded-For", "203.0.113.11")
        .set("Authorization", `Bearer ${randomKey("sk_live_")}`)
        .send({ token: "x.y.z" });
    for (let i = 0; i < 6; i++) expect((await introspect()).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await introspect()).status).toBe(429);
    await settle();
    expect(lookups.length).toBe(6);
  });
});

describe("IPv6 clients count per /64", () => {
  const refresh = (ip: string) => request(w.ca.app).post("/api/v1/auth/refresh").set("X-Forwarded-For", ip).send({});

  it("a sweep across addresses of one /64 hits the per-IP limit like one address", async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push((await refresh(`2001:db8:aa:1:${i.toString(16)}::${(i * 31).toString(16)}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    // Another /64 is another client.
    expect((await refresh("2001:db8:aa:2::1")).status).toBe(401);
  });

  it("an IPv4-mapped IPv6 address is the IPv4 address", async () => {
    const statuses: number[] = [];
    for (const ip of ["198.51.100.20", "::ffff:198.51.100.20", "198.51.100.20", "::ffff:198.51.100.20", "198.51.100.20"])
      statuses.push((await refresh(ip)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });
});

describe("one publishable key, many clients", () => {
  it("clients at their own (key, client) budget get 429 themselves; another client of the key still succeeds", async () => {
    const pk = w.orgA.keys.publishable.live;
    const guest = (ip: string) => request(w.ca.app).post("/api/v1/auth/guest").set("X-Forwarded-For", ip).set("X-Publishable-Key", pk);
    for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8:bb:1::1"]) {
      for (let i = 0; i < 3; i++) expect((await guest(ip)).status).toBe(200);
      const r = await guest(ip);
      expect(r.status).toBe(429);
      expect(r.body.error).toBe("rate_limited");
    }
    const other = await guest("192.0.2.50");
    expect(other.status).toBe(200);
    expect(other.body.accessToken).toEqual(expect.any(String));
  });
});

describe("the Admin API", () => {
  it("takes the per-IP limit before the operator token is checked: a token-guessing client gets 429, another client still gets in", async () => {
    const guess = (ip: string, token: string) =>
      request(w.ca.app)
        .get("/api/v1/consumers")
        .set("X-Forwarded-For", ip)
        .set("Authorization", `Bearer ${token}`)
        .set("X-Organization-Id", w.orgA.organization.id)
        .set("X-Mode", "live");
    const ip = "203.0.113.77";
    for (let i = 0; i < 4; i++) expect((await guess(ip, `guess-${i}`)).status).toBe(401);
    const limited = await guess(ip, "dev-operator-token");
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("rate_limited");
    expect(limited.headers["retry-after"]).toBeDefined();
    expect((await guess("203.0.113.78", "dev-operator-token")).status).toBe(200);
  });
});
