import type { Response } from "supertest";
import { EventType } from "@authplane/contracts";
import { eventually } from "@authplane/service-kit/testing";
import { startConsumerAuthForTest } from "../src/testing.js";
import { decodePart, startWorld, type World, request } from "./helpers.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { REFRESH_REUSE_GRACE_SECONDS: "3" } });
});
afterAll(async () => {
  await w?.stop();
});

async function guest(pk = w.orgA.keys.publishable.live) {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(res.status).toBe(200);
  return res.body as { session: { consumerId: string; sessionId: string }; accessToken: string; refreshToken: string };
}

function refresh(refreshToken: string, pk = w.orgA.keys.publishable.live) {
  return request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken });
}

test("seed shape: a new pair; the old refresh token is spent and the new one works", async () => {
  const g = await guest();
  const r = await refresh(g.refreshToken);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.stringMatching(/^rt_/) });
  expect(r.body.refreshToken).not.toBe(g.refreshToken);
  expect(decodePart(r.body.accessToken.split(".")[1])).toMatchObject({ sessionId: g.session.sessionId, consumerId: g.session.consumerId });
  const r2 = await refresh(r.body.refreshToken);
  expect(r2.status).toBe(200);
  const rows = await w.ca.deps.prisma.refreshToken.findMany({ where: { sessionId: g.session.sessionId } });
  expect(rows).toHaveLength(3);
  for (const row of rows) expect([g.refreshToken, r.body.refreshToken, r2.body.refreshToken]).not.toContain(row.tokenHash);
});

test("bad input and keys: 400 validation_error, 401 unknown token, 401 without a publishable key", async () => {
  expect(
    (await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", w.orgA.keys.publishable.live).send({})).status,
  ).toBe(400);
  const unknown = await refresh(`rt_${"A".repeat(43)}`);
  expect(unknown.status).toBe(401);
  expect(unknown.body.error).toBe("refresh_token_invalid");
  const g = await guest();
  const noKey = await request(w.ca.app).post("/api/v1/auth/refresh").send({ refreshToken: g.refreshToken });
  expect(noKey.status).toBe(401);
  expect(noKey.body).toEqual({ error: "Authentication required" });
  const otherOrg = await refresh(g.refreshToken, w.orgB.keys.publishable.live);
  expect(otherOrg.status).toBe(401);
  // Still usable by its own organization (the foreign attempt did not spend it).
  expect((await refresh(g.refreshToken)).status).toBe(200);
});

test("concurrent refreshes inside the grace window all get the same new pair", async () => {
  const g = await guest();
  const results = await Promise.all(Array.from({ length: 5 }, () => refresh(g.refreshToken)));
  for (const r of results) expect(r.status).toBe(200);
  const pairs = new Set(results.map((r) => `${r.body.accessToken}|${r.body.refreshToken}`));
  expect(pairs.size).toBe(1);
  expect(await w.ca.deps.prisma.refreshToken.count({ where: { sessionId: g.session.sessionId } })).toBe(2);
  // A later tab within the grace gets it too, and the session is still alive.
  const late = await refresh(g.refreshToken);
  expect(late.body.refreshToken).toBe(results[0]?.body.refreshToken);
  const chk = await request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${late.body.accessToken}`)
    .set("X-Publishable-Key", w.orgA.keys.publishable.live);
  expect(chk.status).toBe(200);
});

test("reuse after the grace window revokes the whole session and publishes the event", async () => {
  const seen: Array<{ type: string; data: Record<string, unknown> }> = [];
  const nc = w.ca.deps.nc;
  const subs = [EventType.refreshTokenReuseDetected, EventType.sessionRevoked].map((t) =>
    nc.subscribe(w.iso.subjects.event(t), {
      callback: (_e, m) => {
        seen.push(m.json());
      },
    }),
  );
  await nc.flush();
  try {
    const g = await guest();
    const r = await refresh(g.refreshToken);
    expect(r.status).toBe(200);
    await new Promise((res) => setTimeout(res, 3_300));
    const reuse = await refresh(g.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body.error).toBe("refresh_token_reused");
    // The legitimate successor is dead too, and so are the access tokens.
    const successor = await refresh(r.body.refreshToken);
    expect(successor.status).toBe(401);
    expect(successor.body.error).toBe("session_revoked");
    for (const t of [g.accessToken, r.body.accessToken]) {
      expect(
        (
          await request(w.ca.app)
            .get("/api/v1/auth/check")
            .set("Authorization", `Bearer ${t}`)
            .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        ).status,
      ).toBe(401);
    }
    await eventually(
      () =>
        seen.some((e) => e.type === EventType.refreshTokenReuseDetected && e.data.sessionId === g.session.sessionId) &&
        seen.some(
          (e) => e.type === EventType.sessionRevoked && e.data.sessionId === g.session.sessionId && e.data.reason === "refresh_token_reuse",
        ),
      5_000,
    );
    const reuseEvent = seen.find((e) => e.type === EventType.refreshTokenReuseDetected);
    expect(JSON.stringify(reuseEvent)).not.toContain(g.refreshToken);
  } finally {
    for (const s of subs) s.unsubscribe();
  }
});

test("an expired refresh token is refused", async () => {
  const g = await guest();
  // Move the token's expiry into the past rather than waiting 30 days (admin-key bounds the TTLs).
  await w.ca.deps.prisma.refreshToken.updateMany({
    where: { sessionId: g.session.sessionId },
    data: { expiresAt: new Date(Date.now() - 1000) },
  });
  const r = await refresh(g.refreshToken);
  expect(r.status).toBe(401);
  expect(r.body.error).toBe("refresh_token_expired");
});

test("session events: created and refreshed go through the outbox to NATS", async () => {
  const seen: Array<{ type: string; data: Record<string, unknown>; organizationId: string; mode: string }> = [];
  const nc = w.ca.deps.nc;
  const subs = [EventType.sessionCreated, EventType.sessionRefreshed, EventType.consumerCreated].map((t) =>
    nc.subscribe(w.iso.subjects.event(t), {
      callback: (_e, m) => {
        seen.push(m.json());
      },
    }),
  );
  await nc.flush();
  try {
    const g = await guest();
    await refresh(g.refreshToken);
    await eventually(() => seen.length >= 3, 5_000);
    expect(seen.find((e) => e.type === EventType.sessionCreated)).toMatchObject({
      organizationId: w.orgA.organization.id,
      mode: "live",
      data: { sessionId: g.session.sessionId, consumerId: g.session.consumerId, type: "guest" },
    });
    expect(seen.find((e) => e.type === EventType.consumerCreated)?.data).toMatchObject({ consumerId: g.session.consumerId, kind: "guest" });
    expect(seen.find((e) => e.type === EventType.sessionRefreshed)?.data).toMatchObject({ sessionId: g.session.sessionId });
  } finally {
    for (const s of subs) s.unsubscribe();
  }
});

test("per-IP rate limit answers 429 with Retry-After; X-Forwarded-For from an untrusted peer is ignored", async () => {
  const limited = await startConsumerAuthForTest(w.iso, {
    env: { RATE_LIMIT_IP_PER_MINUTE: "3", REDIS_PREFIX: `${w.iso.redisPrefix}rl-test:`, TRUST_PROXY: "false" },
  });
  try {
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 5; i++) {
      last = await request(limited.app)
        .post("/api/v1/auth/guest")
        .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        .set("X-Forwarded-For", `203.0.113.${i}`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
    expect(last?.body.error).toBe("rate_limited");
  } finally {
    await limited.stop();
  }
});
