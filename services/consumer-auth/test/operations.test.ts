import { classifyDependencyError } from "@authplane/service-kit";
import { captureLogs, eventually } from "@authplane/service-kit/testing";
import { startConsumerAuthForTest } from "../src/testing.js";
import { startWorld, type World, request } from "./helpers.js";

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w?.stop();
});

test("nothing secret reaches the logs, even at trace level", async () => {
  const logs = captureLogs();
  const ca = await startConsumerAuthForTest(w.iso, { env: { LOG_LEVEL: "trace" }, logDestination: logs.stream });
  try {
    const pk = w.orgA.keys.publishable.live;
    const g = await request(ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk).set("User-Agent", "jest");
    const a = await request(ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({ provider: "p", issuer: "https://i.example", subject: "s1" });
    const x = await request(ca.app)
      .post("/api/v1/auth/external/exchange")
      .set("X-Publishable-Key", pk)
      .send({ exchangeCode: a.body.exchangeCode });
    const r = await request(ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: g.body.refreshToken });
    // A concurrent-tab reuse inside the grace window.
    await request(ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: g.body.refreshToken });
    await request(ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${x.body.accessToken}`);
    await request(ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", "pk_live_notarealkeynotarealkey00");
    expect(logs.lines.length).toBeGreaterThan(0);
    const text = logs.text();
    for (const secret of [
      pk,
      w.orgA.keys.secret.live,
      g.body.accessToken,
      g.body.refreshToken,
      a.body.exchangeCode,
      x.body.accessToken,
      x.body.refreshToken,
      r.body.refreshToken,
      "pk_live_notarealkeynotarealkey00",
    ]) {
      expect(typeof secret).toBe("string");
      expect(text).not.toContain(secret);
    }
  } finally {
    await ca.stop();
  }
});

test("Redis unreachable -> 503 quickly, not a hang or a 500", async () => {
  const ca = await startConsumerAuthForTest(w.iso, { env: { REDIS_URL: "redis://127.0.0.1:6399" } });
  try {
    const started = Date.now();
    const g = await request(ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect(g.status).toBe(503);
    expect(g.body.error).toBe("service_unavailable");
    expect(g.headers["retry-after"]).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  } finally {
    await ca.stop();
  }
});

test("readiness reports the three dependencies", async () => {
  const res = await request(w.ca.app).get("/readyz");
  expect(res.status).toBe(200);
  expect(res.body.checks).toEqual({ postgres: "ok", redis: "ok", nats: "ok" });
});

test("scheduled rotation: a key older than SIGNING_KEY_ROTATION_DAYS is replaced, once, and old tokens still verify", async () => {
  const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
  const before = await w.ca.deps.prisma.signingKey.count();
  // ~0.9 s rotation age, 0.2 s refresh: two instances race to rotate on their timers. A new key
  // signs 0.2 s after its publication here (no JWKS caching in this test).
  const env = {
    SIGNING_KEY_ROTATION_DAYS: "0.00001",
    SIGNING_KEY_REFRESH_SECONDS: "0.2",
    JWKS_MAX_AGE_SECONDS: "0",
    SIGNING_KEY_PUBLISH_MARGIN_SECONDS: "0",
  };
  const [one, two] = await Promise.all([startConsumerAuthForTest(w.iso, { env }), startConsumerAuthForTest(w.iso, { env })]);
  try {
    const firstKid = one.deps.tokens.activeKid;
    await eventually(() => one.deps.tokens.activeKid !== firstKid && two.deps.tokens.activeKid === one.deps.tokens.activeKid, 5_000);
    expect(await w.ca.deps.prisma.signingKey.count({ where: { retiredAt: null } })).toBe(1);
    expect(await w.ca.deps.prisma.signingKey.count()).toBeGreaterThan(before);
    expect(
      (
        await request(two.app)
          .get("/api/v1/auth/check")
          .set("Authorization", `Bearer ${g.body.accessToken}`)
          .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      ).status,
    ).toBe(200);
  } finally {
    await one.stop();
    await two.stop();
  }
});

test("a saturated pool or an expired transaction is a postgres 503, not a 500 (issue 12: refreshes under load on a cluster)", async () => {
  const { prisma } = w.ca.deps;
  // More transactions than the pool has connections, each holding one: the ones that cannot get a
  // connection within maxWait fail with Prisma's "Unable to start a transaction in the given time".
  const results = await Promise.allSettled(
    Array.from({ length: 40 }, () =>
      prisma.$transaction(async (tx) => tx.$executeRaw`SELECT pg_sleep(0.3)`, { maxWait: 20, timeout: 10_000 }),
    ),
  );
  const startFailures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
  expect(startFailures.length).toBeGreaterThan(0);
  for (const err of startFailures) {
    expect(err.message).toMatch(/Unable to start a transaction in the given time/);
    expect(classifyDependencyError(err)?.dependency).toBe("postgres");
  }
  // A transaction that outlives its timeout is rolled back; its next statement fails.
  const expired = await prisma
    .$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_sleep(0.3)`;
        await tx.$executeRaw`SELECT 1`;
      },
      { timeout: 100 },
    )
    .catch((e: unknown) => e as Error);
  expect(expired).toBeInstanceOf(Error);
  expect(classifyDependencyError(expired)?.dependency).toBe("postgres");
});

test("a SQL bug reported by Prisma stays a 500-class error, not a fake dependency outage", async () => {
  const err = await w.ca.deps.prisma.$executeRaw`SELECT * FROM no_such_table_at_all`.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(classifyDependencyError(err)).toBeNull();
});
