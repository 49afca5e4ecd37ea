import type { CreatedOrganization } from "@authplane/admin-key/testing";
import { eventually } from "@authplane/service-kit/testing";
import { startWorld, type World, request } from "./helpers.js";

/**
 * Issue 9 item 7, from the attacker's (and the unlucky client's) side: a session has an absolute
 * lifetime refresh cannot extend; settings changes reach existing sessions at their next refresh;
 * refresh racing logout never ends in a 500; and a client retrying a refresh whose response it
 * lost (a failure after the commit, Redis losing data) is not taken for a thief.
 */
let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w?.stop();
});

type Session = { session: { sessionId: string }; accessToken: string; refreshToken: string };

async function guest(pk: string): Promise<Session> {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(res.status).toBe(200);
  return res.body as Session;
}

function refresh(refreshToken: string, pk: string) {
  return request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken });
}

function check(token: string, pk: string) {
  return request(w.ca.app).get("/api/v1/auth/check").set("Authorization", `Bearer ${token}`).set("X-Publishable-Key", pk);
}

/** Moves a session's sign-in into the past (instead of waiting for its lifetime to pass). */
async function signedInSecondsAgo(sessionId: string, seconds: number): Promise<Date> {
  const createdAt = new Date(Date.now() - seconds * 1000);
  await w.ca.deps.prisma.session.update({ where: { id: sessionId }, data: { createdAt } });
  return createdAt;
}

async function patchSettings(org: CreatedOrganization, body: Record<string, unknown>) {
  await request(w.admin.app)
    .patch("/api/v1/organizations/current/settings")
    .set("Authorization", `Bearer ${org.keys.secret.live}`)
    .send(body)
    .expect(200);
  // consumer-auth's key cache drops the organization on organizations.v1.settings_updated.
  const field = Object.keys(body)[0] as string;
  await eventually(async () => {
    const key = await w.ca.deps.keyVerifier.verify(org.keys.publishable.live);
    return (key?.settings as Record<string, unknown> | undefined)?.[field] === body[field];
  }, 5_000);
}

describe("absolute session lifetime", () => {
  let org: CreatedOrganization;
  beforeAll(async () => {
    org = await w.admin.createOrganization({
      name: "Lifetime",
      settings: { accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 86_400, sessionLifetimeSeconds: 3_600 },
    });
  });

  test("sign-in: no token outlives the session lifetime", async () => {
    const g = (await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", org.keys.publishable.live)).body;
    const lifetimeEnd = Date.now() + 3_600_000;
    expect(Date.parse(g.refreshTokenExpiresAt)).toBeLessThanOrEqual(lifetimeEnd + 1_000);
    expect(g.refreshTokenTtlSeconds).toBe(3_600);
  });

  test("refresh never extends a session past sign-in + lifetime, and refuses it afterwards", async () => {
    const pk = org.keys.publishable.live;
    const g = await guest(pk);
    // 59.5 minutes into a 60-minute session, an attacker (or a client) keeps refreshing.
    const createdAt = await signedInSecondsAgo(g.session.sessionId, 3_570);
    const end = createdAt.getTime() + 3_600_000;
    const r = await refresh(g.refreshToken, pk);
    expect(r.status).toBe(200);
    expect(Date.parse(r.body.refreshTokenExpiresAt)).toBeLessThanOrEqual(end);
    expect(Date.parse(r.body.accessTokenExpiresAt)).toBeLessThanOrEqual(end);
    const exp = JSON.parse(Buffer.from(r.body.accessToken.split(".")[1], "base64url").toString()).exp as number;
    expect(exp * 1000).toBeLessThanOrEqual(end);
    // Past the lifetime: refused, whatever the refresh token's own expiry said.
    await signedInSecondsAgo(g.session.sessionId, 3_601);
    const late = await refresh(r.body.refreshToken, pk);
    expect(late.status).toBe(401);
    expect(late.body.error).toBe("session_expired");
  });

  test("a settings change applies to an existing session at its next refresh", async () => {
    const own = await w.admin.createOrganization({ name: "Settings change" });
    const pk = own.keys.publishable.live;
    const g = await guest(pk);
    await patchSettings(own, { accessTokenTtlSeconds: 120 });
    await patchSettings(own, { refreshTokenTtlSeconds: 900 });
    const before = Date.now();
    const r = await refresh(g.refreshToken, pk);
    expect(r.status).toBe(200);
    expect(Date.parse(r.body.accessTokenExpiresAt) - before).toBeLessThanOrEqual(121_000);
    expect(Date.parse(r.body.refreshTokenExpiresAt) - before).toBeLessThanOrEqual(901_000);
    expect(Date.parse(r.body.refreshTokenExpiresAt) - before).toBeGreaterThan(890_000);
    // A shorter session lifetime ends sessions that are already older than it.
    await patchSettings(own, { sessionLifetimeSeconds: 600 });
    await signedInSecondsAgo(g.session.sessionId, 700);
    const ended = await refresh(r.body.refreshToken, pk);
    expect(ended.status).toBe(401);
    expect(ended.body.error).toBe("session_expired");
  });
});

describe("refresh racing logout", () => {
  test("in a loop: never a 500, and whatever refresh returned is dead after the logout", async () => {
    const pk = w.orgA.keys.publishable.live;
    const statuses = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const g = await guest(pk);
      const [r, lo] = await Promise.all([
        refresh(g.refreshToken, pk),
        request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${g.accessToken}`),
      ]);
      statuses.add(r.status);
      expect([200, 401]).toContain(r.status);
      expect(lo.status).toBe(204);
      expect((await check(g.accessToken, pk)).status).toBe(401);
      if (r.status === 200) {
        expect((await check(r.body.accessToken, pk)).status).toBe(401);
        const again = await refresh(r.body.refreshToken, pk);
        expect(again.status).toBe(401);
        expect(again.body.error).toBe("session_revoked");
      } else {
        expect(r.body.error).toBe("session_revoked");
      }
    }
    expect(statuses.has(500)).toBe(false);
  });
});

describe("a retry after a lost refresh response is not theft", () => {
  const flushTestKeys = () => w.iso.flushRedis();

  test("Redis loses its data after the rotation: the retry within the grace gets the same pair, the session lives", async () => {
    const pk = w.orgA.keys.publishable.live;
    const g = await guest(pk);
    const lost = await refresh(g.refreshToken, pk); // committed, but the client never saw it
    expect(lost.status).toBe(200);
    await flushTestKeys();
    const retry = await refresh(g.refreshToken, pk);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(lost.body);
    // No alarm: the session is alive and the pair works.
    const row = await w.ca.deps.prisma.session.findUniqueOrThrow({ where: { id: g.session.sessionId } });
    expect(row.revokedAt).toBeNull();
    expect((await check(retry.body.accessToken, pk)).status).toBe(200);
    const next = await refresh(retry.body.refreshToken, pk);
    expect(next.status).toBe(200);
  });

  test("the stored pair is sealed: the database alone holds no usable token", async () => {
    const pk = w.orgA.keys.publishable.live;
    const g = await guest(pk);
    const r = await refresh(g.refreshToken, pk);
    expect(r.status).toBe(200);
    const rows = await w.ca.deps.prisma.refreshToken.findMany({ where: { sessionId: g.session.sessionId } });
    const dump = JSON.stringify(rows);
    for (const secret of [r.body.refreshToken, r.body.accessToken, g.refreshToken]) expect(dump).not.toContain(secret);
    expect(rows.some((x) => x.successorSealed)).toBe(true);
  });
});
