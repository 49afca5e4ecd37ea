import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { startWorld, type World, request } from "./helpers.js";

/**
 * Attacker side of issue 9 item 4: a logged-out (or theft-revoked) session must stay dead when
 * Redis loses its data (restart without persistence, FLUSH, failover, eviction), and a check must
 * never answer "valid" because Redis cannot be asked.
 */
let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { REFRESH_REUSE_GRACE_SECONDS: "0" } });
});
afterAll(async () => {
  await w?.stop();
});

async function guest(ca: ConsumerAuthForTest = w.ca) {
  const res = await request(ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
  expect(res.status).toBe(200);
  return res.body as { session: { sessionId: string }; accessToken: string; refreshToken: string };
}

function check(token: string, ca: ConsumerAuthForTest = w.ca) {
  return request(ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", w.orgA.keys.publishable.live);
}

function introspect(token: string, ca: ConsumerAuthForTest = w.ca) {
  return request(ca.app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${w.orgA.keys.secret.live}`).send({ token });
}

function logout(token: string, ca: ConsumerAuthForTest = w.ca) {
  return request(ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${token}`);
}

/** Deletes every Redis key of this test file (the shared Redis server is never flushed as a whole). */
const flushTestKeys = () => w.iso.flushRedis();

describe("revocation survives the loss of Redis's data", () => {
  test("logout, then Redis loses everything: the token is still refused by /check and /introspect", async () => {
    const victim = await guest();
    const alive = await guest();
    expect((await logout(victim.accessToken)).status).toBe(204);
    expect((await check(victim.accessToken)).status).toBe(401);

    expect(await flushTestKeys()).toBeGreaterThan(0);

    const after = await check(victim.accessToken);
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ error: "Authentication required" });
    const intro = await introspect(victim.accessToken);
    expect(intro.status).toBe(200);
    expect(intro.body).toEqual({ active: false });
    // A session that was never revoked still passes.
    expect((await check(alive.accessToken)).status).toBe(200);
    // And it is refused on a second instance too (the rebuilt set is in Redis, not in memory).
    const second = await startConsumerAuthForTest(w.iso);
    try {
      expect((await check(victim.accessToken, second)).status).toBe(401);
    } finally {
      await second.stop();
    }
  });

  test("a theft-revoked session stays revoked after a flush", async () => {
    const g = await guest();
    const pk = w.orgA.keys.publishable.live;
    const first = await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: g.refreshToken });
    expect(first.status).toBe(200);
    const reuse = await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: g.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error).toBe("refresh_token_reused");
    await flushTestKeys();
    for (const t of [g.accessToken, first.body.accessToken as string]) {
      expect((await check(t)).status).toBe(401);
      expect((await introspect(t)).body).toEqual({ active: false });
    }
  });
});

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A Redis server of our own, without persistence (a restart loses everything, like a failover to an empty replica). */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return proc;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error("redis-server did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stopRedis(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGKILL");
  await exited;
}

describe("Redis restarted without its data, and Redis down", () => {
  let port: number;
  let redis: ChildProcess | null = null;
  let ca: ConsumerAuthForTest | null = null;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    ca = await startConsumerAuthForTest(w.iso, { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    await ca?.stop();
    if (redis) await stopRedis(redis);
  });

  test("logout, Redis dies: /check answers 503 at once; Redis restarts empty: the token is still refused", async () => {
    const svc = ca as ConsumerAuthForTest;
    const victim = await guest(svc);
    const alive = await guest(svc);
    expect((await logout(victim.accessToken, svc)).status).toBe(204);
    expect((await check(victim.accessToken, svc)).status).toBe(401);

    await stopRedis(redis as ChildProcess);
    await new Promise((r) => setTimeout(r, 200)); // the client notices the closed socket
    for (const token of [victim.accessToken, alive.accessToken]) {
      const started = Date.now();
      const down = await check(token, svc);
      const elapsed = Date.now() - started;
      expect(down.status).toBe(503);
      expect(down.body.error).toBe("service_unavailable");
      expect(down.headers["retry-after"]).toBeDefined();
      expect(elapsed).toBeLessThan(500);
    }

    redis = await startRedis(port); // same port, no data
    const reconnected = Date.now() + 10_000;
    let res = await check(victim.accessToken, svc);
    while (res.status === 503 && Date.now() < reconnected) {
      await new Promise((r) => setTimeout(r, 100));
      res = await check(victim.accessToken, svc);
    }
    expect(res.status).toBe(401);
    expect((await introspect(victim.accessToken, svc)).body).toEqual({ active: false });
    expect((await check(alive.accessToken, svc)).status).toBe(200);
  });
});
