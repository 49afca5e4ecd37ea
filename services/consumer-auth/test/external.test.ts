import { EventType } from "@authplane/contracts";
import { eventually } from "@authplane/service-kit/testing";
import { decodePart, startWorld, type World, request } from "./helpers.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { EXCHANGE_CODE_TTL_SECONDS: "2" } });
});
afterAll(async () => {
  await w?.stop();
});

let n = 0;
function authorize(sk: string, body?: Record<string, unknown>) {
  n += 1;
  return request(w.ca.app)
    .post("/api/v1/auth/external/authorize")
    .set("Authorization", `Bearer ${sk}`)
    .send(body ?? { provider: "shopify", issuer: "https://store.example", subject: `customer_${n}_${Date.now()}` });
}

function exchange(pk: string, exchangeCode: string) {
  return request(w.ca.app).post("/api/v1/auth/external/exchange").set("X-Publishable-Key", pk).send({ exchangeCode });
}

describe("POST /external/authorize", () => {
  test("seed example: exchange code exc_… valid 60 s (here shortened by config), resolution created", async () => {
    const res = await request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({
        provider: "your-platform",
        issuer: "https://your-domain.com",
        subject: "user_123456",
        claims: { email: "john@example.com", name: "John Doe" },
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      exchangeCode: expect.stringMatching(/^exc_[0-9A-Za-z]{32}$/),
      expiresAt: expect.any(String),
      resolution: "created",
    });
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeLessThanOrEqual(2_000);
  });

  test("publishable key -> 403 Secret key required; nothing or junk -> 401; bad body -> 400", async () => {
    const pkBearer = await authorize(w.orgA.keys.publishable.live);
    expect(pkBearer.status).toBe(403);
    expect(pkBearer.body).toEqual({ error: "Secret key required" });
    const pkHeader = await request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ provider: "p", issuer: "i", subject: "s" });
    expect(pkHeader.status).toBe(403);
    expect(pkHeader.body).toEqual({ error: "Secret key required" });
    const none = await request(w.ca.app).post("/api/v1/auth/external/authorize").send({ provider: "p", issuer: "i", subject: "s" });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Authentication required" });
    const junk = await authorize("sk_live_0000000000000000000000000000");
    expect(junk.status).toBe(401);
    const bad = await authorize(w.orgA.keys.secret.live, { provider: "", subject: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    expect(Array.isArray(bad.body.issues)).toBe(true);
  });
});

describe("POST /external/exchange", () => {
  test("code -> external session; the same identity later resolves to the same consumer (existing)", async () => {
    const subject = `user_${Date.now()}`;
    const body = { provider: "shopify", issuer: "https://s.example", subject, claims: { email: "Ann@Example.com", email_verified: true } };
    const a = await authorize(w.orgA.keys.secret.live, body);
    expect(a.body.resolution).toBe("created");
    const x = await exchange(w.orgA.keys.publishable.live, a.body.exchangeCode);
    expect(x.status).toBe(200);
    expect(x.body.session).toMatchObject({ type: "external", consumerId: expect.stringMatching(/^cons_/), email: "ann@example.com" });
    expect(x.body.session.guestId).toBeUndefined();
    expect(decodePart(x.body.accessToken.split(".")[1]).consumerId).toBe(x.body.session.consumerId);
    const again = await authorize(w.orgA.keys.secret.live, body);
    expect(again.body.resolution).toBe("existing");
    const x2 = await exchange(w.orgA.keys.publishable.live, again.body.exchangeCode);
    expect(x2.body.session.consumerId).toBe(x.body.session.consumerId);
    // Another provider asserting the same VERIFIED email links to that consumer.
    const other = await authorize(w.orgA.keys.secret.live, { ...body, provider: "auth0", subject: `auth0|${subject}` });
    expect(other.body.resolution).toBe("linked");
    const x3 = await exchange(w.orgA.keys.publishable.live, other.body.exchangeCode);
    expect(x3.body.session.consumerId).toBe(x.body.session.consumerId);
    // An unverified email does not link.
    const unverified = await authorize(w.orgA.keys.secret.live, { ...body, provider: "other", claims: { email: "ann@example.com" } });
    expect(unverified.body.resolution).toBe("created");
  });

  test("replay: a spent code is refused", async () => {
    const a = await authorize(w.orgA.keys.secret.live);
    expect((await exchange(w.orgA.keys.publishable.live, a.body.exchangeCode)).status).toBe(200);
    const replay = await exchange(w.orgA.keys.publishable.live, a.body.exchangeCode);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe("exchange_code_invalid");
  });

  test("Redis holds no usable exchange code: keys are named by its SHA-256; the code still works once", async () => {
    const a = await authorize(w.orgA.keys.secret.live);
    expect(a.status).toBe(200);
    const code = a.body.exchangeCode as string;
    // An attacker reading Redis (SCAN, MONITOR, a dump or a replica) sees key names and values.
    const redis = w.ca.deps.redis;
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${w.iso.redisPrefix}*`, "COUNT", 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    const codeKeys = keys.filter((k) => k.includes(":exc:"));
    expect(codeKeys.length).toBeGreaterThanOrEqual(1);
    for (const k of keys) expect(k).not.toContain(code.slice(4));
    const unprefixed = (k: string) => k.slice(w.ca.deps.env.REDIS_PREFIX.length);
    for (const k of codeKeys) {
      const value = await redis.get(unprefixed(k));
      expect(value ?? "").not.toContain(code.slice(4));
    }
    // Presenting a Redis key name (or the hash) as a code finds nothing.
    const hashName = codeKeys[codeKeys.length - 1]?.split(":").pop() ?? "";
    expect((await exchange(w.orgA.keys.publishable.live, hashName)).status).toBe(401);
    // The real code: exactly once.
    expect((await exchange(w.orgA.keys.publishable.live, code)).status).toBe(200);
    const replay = await exchange(w.orgA.keys.publishable.live, code);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe("exchange_code_invalid");
  });

  test("20 parallel exchanges of one code -> exactly one session", async () => {
    const a = await authorize(w.orgA.keys.secret.live);
    const results = await Promise.all(Array.from({ length: 20 }, () => exchange(w.orgA.keys.publishable.live, a.body.exchangeCode)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 401 && r.body.error === "exchange_code_invalid")).toHaveLength(19);
    const sessions = await w.ca.deps.prisma.session.count({ where: { consumerId: ok[0]?.body.session.consumerId } });
    expect(sessions).toBe(1);
  });

  test("another organization's or mode's key cannot use the code (and does not burn it); expired codes are refused", async () => {
    const a = await authorize(w.orgA.keys.secret.live);
    const otherOrg = await exchange(w.orgB.keys.publishable.live, a.body.exchangeCode);
    expect(otherOrg.status).toBe(401);
    expect(otherOrg.body.error).toBe("exchange_code_invalid");
    const otherMode = await exchange(w.orgA.keys.publishable.test, a.body.exchangeCode);
    expect(otherMode.status).toBe(401);
    expect((await exchange(w.orgA.keys.publishable.live, a.body.exchangeCode)).status).toBe(200);

    const b = await authorize(w.orgA.keys.secret.live);
    await new Promise((r) => setTimeout(r, 2_200));
    const expired = await exchange(w.orgA.keys.publishable.live, b.body.exchangeCode);
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe("exchange_code_invalid");
    const malformed = await exchange(w.orgA.keys.publishable.live, "exc_short");
    expect(malformed.status).toBe(401);
    const missing = await request(w.ca.app)
      .post("/api/v1/auth/external/exchange")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({});
    expect(missing.status).toBe(400);
  });

  test("exchanging while holding a guest token upgrades the guest in place (consumers.v1.upgraded)", async () => {
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    const sub = w.ca.deps.nc.subscribe(w.iso.subjects.event(EventType.consumerUpgraded), {
      callback: (_e, m) => {
        events.push(m.json());
      },
    });
    await w.ca.deps.nc.flush();
    try {
      const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
      const guestId = g.body.session.consumerId as string;
      const a = await authorize(w.orgA.keys.secret.live, {
        provider: "shopify",
        issuer: "https://s.example",
        subject: `upgrade_${Date.now()}`,
        claims: { email: `up${Date.now()}@example.com`, email_verified: true },
      });
      // A bad guest token is refused without burning the code.
      const badTok = await request(w.ca.app)
        .post("/api/v1/auth/external/exchange")
        .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        .set("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")
        .send({ exchangeCode: a.body.exchangeCode });
      expect(badTok.status).toBe(401);
      const x = await request(w.ca.app)
        .post("/api/v1/auth/external/exchange")
        .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        .set("Authorization", `Bearer ${g.body.accessToken}`)
        .send({ exchangeCode: a.body.exchangeCode });
      expect(x.status).toBe(200);
      expect(x.body.session).toMatchObject({ type: "external", consumerId: guestId });
      const consumer = await w.ca.deps.prisma.consumer.findUnique({ where: { id: guestId } });
      expect(consumer?.kind).toBe("registered");
      expect(consumer?.upgradedAt).not.toBeNull();
      expect(await w.ca.deps.prisma.consumer.count({ where: { organizationId: w.orgA.organization.id, email: consumer?.email } })).toBe(1);
      await eventually(() => events.some((e) => e.data.consumerId === guestId), 5_000);
    } finally {
      sub.unsubscribe();
    }
  });

  test("a guest token of another organization is refused", async () => {
    const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgB.keys.publishable.live);
    const a = await authorize(w.orgA.keys.secret.live);
    const x = await request(w.ca.app)
      .post("/api/v1/auth/external/exchange")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .set("Authorization", `Bearer ${g.body.accessToken}`)
      .send({ exchangeCode: a.body.exchangeCode });
    expect(x.status).toBe(401);
    expect(x.body.error).toBe("key_mismatch");
    expect((await exchange(w.orgA.keys.publishable.live, a.body.exchangeCode)).status).toBe(200);
  });
});
