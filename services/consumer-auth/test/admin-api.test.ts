import type { CreatedOrganization } from "@authplane/admin-key/testing";
import { type EventEnvelope, EventType, OTP_REQUESTED_TYPE, type SessionRevokedData } from "@authplane/contracts";
import { eventually } from "@authplane/service-kit/testing";
import { consumerAuthOpenApi } from "../src/app.js";
import { createConsumerAuthPruner } from "../src/retention.js";
import { openJobCode, request, startWorld, type World } from "./helpers.js";

/**
 * Issue 14: consumer-auth's Admin API (consumers, their sessions, revocation, sign-in numbers),
 * with the operator token (+ X-Organization-Id, X-Mode) or the organization's secret key, from
 * the operator's side and the attacker's (another organization, another mode, wrong credentials).
 * Sessions are created through the real API (guest, email OTP, SMS OTP).
 */
let w: World;
const revokedEvents: Array<EventEnvelope & { data: SessionRevokedData }> = [];
let sub: { unsubscribe(): void } | null = null;
let ipSeq = 0;

beforeAll(async () => {
  w = await startWorld({ env: { OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  sub = w.ca.deps.nc.subscribe(w.iso.subjects.event(EventType.sessionRevoked), {
    callback: (_e, m) => {
      revokedEvents.push(m.json());
    },
  });
  await w.ca.deps.nc.flush();
}, 60_000);
afterAll(async () => {
  sub?.unsubscribe();
  await w?.stop();
});

const OPERATOR = "dev-operator-token";
type Mode = "live" | "test";
type Signed = { session: { sessionId: string; consumerId: string }; accessToken: string; refreshToken: string };

const newIp = () => `203.0.113.${++ipSeq}`;

/** An Admin API request as the operator, about `org` in `mode`. */
function asOperator(method: "get" | "post", path: string, org: CreatedOrganization = w.orgA, mode: Mode = "live") {
  return request(w.ca.app)
    [method](path)
    .set("Authorization", `Bearer ${OPERATOR}`)
    .set("X-Organization-Id", org.organization.id)
    .set("X-Mode", mode);
}

/** An Admin API request with the organization's secret key of `mode`. */
function asSecretKey(method: "get" | "post", path: string, org: CreatedOrganization = w.orgA, mode: Mode = "live") {
  return request(w.ca.app)[method](path).set("Authorization", `Bearer ${org.keys.secret[mode]}`);
}

async function guest(org: CreatedOrganization = w.orgA, mode: Mode = "live"): Promise<Signed> {
  const res = await request(w.ca.app)
    .post("/api/v1/auth/guest")
    .set("X-Publishable-Key", org.keys.publishable[mode])
    .set("X-Forwarded-For", newIp());
  expect(res.status).toBe(200);
  return res.body as Signed;
}

/** Signs in with a one-time code sent to `identity` (the code read from the sealed delivery job, as otp-delivery does). */
async function otpSignIn(
  identity: { email: string } | { phone: string },
  org: CreatedOrganization = w.orgA,
  mode: Mode = "live",
): Promise<Signed> {
  const pk = org.keys.publishable[mode];
  const ip = newIp();
  const req = await request(w.ca.app)
    .post("/api/v1/auth/otp/request")
    .set("X-Publishable-Key", pk)
    .set("X-Forwarded-For", ip)
    .send(identity);
  expect(req.status).toBe(200);
  const msg = await w.ca.deps.jsm.streams.getMessage(w.iso.subjects.otpStream, { last_by_subj: w.iso.subjects.otpRequested });
  const envelope = msg?.json<EventEnvelope>();
  expect(envelope?.type).toBe(OTP_REQUESTED_TYPE);
  const code = openJobCode(envelope as EventEnvelope);
  const res = await request(w.ca.app)
    .post("/api/v1/auth/otp/verify")
    .set("X-Publishable-Key", pk)
    .set("X-Forwarded-For", ip)
    .send({ ...identity, code });
  expect(res.status).toBe(200);
  return res.body as Signed;
}

function check(token: string, org: CreatedOrganization = w.orgA, mode: Mode = "live") {
  return request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", org.keys.publishable[mode]);
}

function refresh(refreshToken: string, org: CreatedOrganization = w.orgA, mode: Mode = "live") {
  return request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", org.keys.publishable[mode]).send({ refreshToken });
}

function introspect(token: string, org: CreatedOrganization = w.orgA, mode: Mode = "live") {
  return request(w.ca.app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${org.keys.secret[mode]}`).send({ token });
}

/** Every state the tests assert on for `consumerId`: its row and its sessions' revocation. */
async function storedState(consumerId: string) {
  const consumer = await w.ca.deps.prisma.consumer.findUnique({ where: { id: consumerId } });
  const sessions = await w.ca.deps.prisma.session.findMany({
    where: { consumerId },
    select: { id: true, revokedAt: true },
    orderBy: { id: "asc" },
  });
  return { consumer, sessions };
}

describe("authentication", () => {
  test("the operator token with X-Organization-Id + X-Mode, and the organization's secret key, both work", async () => {
    const g = await guest();
    const byOperator = await asOperator("get", `/api/v1/consumers/${g.session.consumerId}`);
    expect(byOperator.status).toBe(200);
    expect(byOperator.body).toMatchObject({ id: g.session.consumerId, kind: "guest", email: null, phone: null, activeSessions: 1 });
    expect(byOperator.headers["cache-control"]).toMatch(/no-store/);
    const byKey = await asSecretKey("get", `/api/v1/consumers/${g.session.consumerId}`);
    expect(byKey.status).toBe(200);
    expect(byKey.body).toEqual(byOperator.body);
  });

  test("a wrong or missing token is 401, the operator token without (or with malformed) scope headers 400", async () => {
    const path = "/api/v1/consumers";
    const wrong = await request(w.ca.app)
      .get(path)
      .set("Authorization", `Bearer ${OPERATOR}x`)
      .set("X-Organization-Id", w.orgA.organization.id)
      .set("X-Mode", "live");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: "Authentication required" });
    expect((await request(w.ca.app).get(path)).status).toBe(401);
    // A consumer's access token is not an admin credential either.
    const g = await guest();
    expect((await request(w.ca.app).get(path).set("Authorization", `Bearer ${g.accessToken}`)).status).toBe(401);
    // A revoked-looking / unknown secret key.
    expect(
      (
        await request(w.ca.app)
          .get(path)
          .set("Authorization", `Bearer sk_live_${"A".repeat(32)}`)
      ).status,
    ).toBe(401);

    const noHeaders = await request(w.ca.app).get(path).set("Authorization", `Bearer ${OPERATOR}`);
    expect(noHeaders.status).toBe(400);
    expect(noHeaders.body.error).toBe("validation_error");
    const noMode = await request(w.ca.app)
      .get(path)
      .set("Authorization", `Bearer ${OPERATOR}`)
      .set("X-Organization-Id", w.orgA.organization.id);
    expect(noMode.status).toBe(400);
    const badMode = await asOperator("get", path).set("X-Mode", "prod");
    expect(badMode.status).toBe(400);
    const badOrg = await asOperator("get", path).set("X-Organization-Id", "org_' OR 1=1 --");
    expect(badOrg.status).toBe(400);
  });

  test("a publishable key is refused (403), in the bearer or in X-Publishable-Key", async () => {
    const inBearer = await request(w.ca.app).get("/api/v1/consumers").set("Authorization", `Bearer ${w.orgA.keys.publishable.live}`);
    expect(inBearer.status).toBe(403);
    expect(inBearer.body).toEqual({ error: "Secret key required" });
    const inHeader = await request(w.ca.app).get("/api/v1/stats/consumers").set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect(inHeader.status).toBe(403);
    const revoke = await request(w.ca.app)
      .post(`/api/v1/consumers/${(await guest()).session.consumerId}/sessions/revoke`)
      .set("Authorization", `Bearer ${w.orgA.keys.publishable.live}`);
    expect(revoke.status).toBe(403);
  });

  test("a secret key reaches its own organization and mode only, whatever scope headers it adds", async () => {
    const other = await guest(w.orgB);
    const testMode = await guest(w.orgA, "test");
    for (const id of [other.session.consumerId, testMode.session.consumerId]) {
      const res = await asSecretKey("get", `/api/v1/consumers/${id}`)
        .set("X-Organization-Id", w.orgB.organization.id)
        .set("X-Mode", "test");
      expect(res.status).toBe(404);
      expect(res.body.error).toBe("consumer_not_found");
    }
    // orgB's live key sees orgB's consumer, and the test key the test one.
    expect((await asSecretKey("get", `/api/v1/consumers/${other.session.consumerId}`, w.orgB)).status).toBe(200);
    expect((await asSecretKey("get", `/api/v1/consumers/${testMode.session.consumerId}`, w.orgA, "test")).status).toBe(200);
  });
});

describe("another organization's or mode's consumers", () => {
  test("answer 404 like an unknown id, are never listed, and cannot be revoked", async () => {
    const mine = await guest();
    const theirs = await otpSignIn({ email: "victim@orgb.example" }, w.orgB);
    const otherMode = await otpSignIn({ email: "victim@orgb.example" }, w.orgA, "test");
    const unknown = await asOperator("get", "/api/v1/consumers/cons_01J0000000000000000000000Z");
    expect(unknown.status).toBe(404);
    for (const victim of [theirs, otherMode]) {
      const id = victim.session.consumerId;
      const one = await asOperator("get", `/api/v1/consumers/${id}`);
      expect(one.status).toBe(404);
      expect(one.body).toEqual(unknown.body);
      expect((await asOperator("get", `/api/v1/consumers/${id}/sessions`)).status).toBe(404);
      const revokeOne = await asOperator("post", `/api/v1/consumers/${id}/sessions/${victim.session.sessionId}/revoke`);
      expect(revokeOne.status).toBe(404);
      const revokeAll = await asOperator("post", `/api/v1/consumers/${id}/sessions/revoke`);
      expect(revokeAll.status).toBe(404);
      // Their session is untouched.
      expect((await check(victim.accessToken, victim === theirs ? w.orgB : w.orgA, victim === theirs ? "live" : "test")).status).toBe(200);
    }
    // orgA's session id under orgA's consumer path, but it is another consumer's session: 404.
    const cross = await asOperator("post", `/api/v1/consumers/${mine.session.consumerId}/sessions/${theirs.session.sessionId}/revoke`);
    expect(cross.status).toBe(404);
    expect(cross.body.error).toBe("session_not_found");
    expect((await check(theirs.accessToken, w.orgB)).status).toBe(200);

    // Searches and the full list never show them.
    for (const q of ["victim@orgb.example", "victim", theirs.session.consumerId, otherMode.session.consumerId]) {
      const res = await asOperator("get", "/api/v1/consumers").query({ q });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    }
    const all = await collectAll("/api/v1/consumers", {});
    expect(all).toContain(mine.session.consumerId);
    expect(all).not.toContain(theirs.session.consumerId);
    expect(all).not.toContain(otherMode.session.consumerId);
    // The other organization's operator view does show its own.
    const orgBList = await asOperator("get", "/api/v1/consumers", w.orgB).query({ q: "victim@orgb.example" });
    expect(orgBList.body.data.map((c: { id: string }) => c.id)).toEqual([theirs.session.consumerId]);
  });
});

/** Every id of a list, following nextCursor with pages of 2. */
async function collectAll(path: string, query: Record<string, string>, org: CreatedOrganization = w.orgA): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 500; page++) {
    const res = await asOperator("get", path, org).query({ ...query, limit: "2", ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(2);
    ids.push(...res.body.data.map((r: { id: string }) => r.id));
    cursor = res.body.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error("the list never ended");
}

describe("search and pagination", () => {
  let org: CreatedOrganization;
  beforeAll(async () => {
    org = await w.admin.createOrganization({ name: "Search Org" });
  });

  test("by id, by email (any case; without @ a prefix), by phone in any format; newest first with a working cursor", async () => {
    const g = await guest(org);
    const alice = await otpSignIn({ email: "alice.search@example.com" }, org);
    const bob = await otpSignIn({ email: "bob_search@example.com" }, org);
    const phone = await otpSignIn({ phone: "+1 202 555 0161" }, org);

    const find = async (q: string) => {
      const res = await asOperator("get", "/api/v1/consumers", org).query({ q });
      expect(res.status).toBe(200);
      return res.body.data.map((c: { id: string }) => c.id) as string[];
    };
    expect(await find(g.session.consumerId)).toEqual([g.session.consumerId]);
    expect(await find("ALICE.Search@Example.com")).toEqual([alice.session.consumerId]);
    expect(await find("  alice.search@example.com  ")).toEqual([alice.session.consumerId]);
    expect(await find("Alice.S")).toEqual([alice.session.consumerId]);
    // LIKE wildcards are literal: "_" matches only "_", "%" matches nothing.
    expect(await find("bob_")).toEqual([bob.session.consumerId]);
    expect(await find("alice_")).toEqual([]);
    expect(await find("bo%")).toEqual([]);
    expect(await find("alice.search@example.co")).toEqual([]);
    expect(await find("+12025550161")).toEqual([phone.session.consumerId]);
    expect(await find("+1 (202) 555-0161")).toEqual([phone.session.consumerId]);
    expect(await find("+1 202 555 0199")).toEqual([]);
    expect(await find("guest_01J0000000000000000000000Z")).toEqual([]);

    const one = await asOperator("get", `/api/v1/consumers/${phone.session.consumerId}`, org);
    expect(one.body).toMatchObject({ kind: "registered", phone: "+12025550161", email: null, activeSessions: 1, upgradedAt: null });
    expect(Date.parse(one.body.phoneVerifiedAt)).not.toBeNaN();

    // Newest first, every consumer exactly once across pages of 2.
    const all = await collectAll("/api/v1/consumers", {}, org);
    expect(all).toEqual([phone, bob, alice, g].map((s) => s.session.consumerId));
    const firstPage = await asOperator("get", "/api/v1/consumers", org).query({ limit: "4" });
    expect(firstPage.body.nextCursor).toBeNull();
    expect((await asOperator("get", "/api/v1/consumers", org)).body.data).toHaveLength(4);
  });

  test("a consumer's sessions: newest first, method per sign-in, revoked ones on request, paginated", async () => {
    const first = await otpSignIn({ email: "many.sessions@example.com" }, org);
    const second = await otpSignIn({ email: "many.sessions@example.com" }, org);
    const third = await otpSignIn({ email: "many.sessions@example.com" }, org);
    const id = first.session.consumerId;
    expect(second.session.consumerId).toBe(id);
    await asOperator("post", `/api/v1/consumers/${id}/sessions/${first.session.sessionId}/revoke`, org).expect(200);

    const live = await asOperator("get", `/api/v1/consumers/${id}/sessions`, org);
    expect(live.status).toBe(200);
    expect(live.body.data.map((s: { id: string }) => s.id)).toEqual([third.session.sessionId, second.session.sessionId]);
    expect(live.body.data[0]).toMatchObject({ type: "otp", method: "email_otp", revokedAt: null, revokedReason: null });
    expect(Date.parse(live.body.data[0].refreshExpiresAt)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(live.body)).not.toContain(third.refreshToken);
    expect(JSON.stringify(live.body)).not.toContain(third.accessToken);

    const withRevoked = await asOperator("get", `/api/v1/consumers/${id}/sessions`, org).query({ includeRevoked: "true" });
    const ids = withRevoked.body.data.map((s: { id: string }) => s.id);
    expect(ids).toEqual([third, second, first].map((s) => s.session.sessionId));
    expect(withRevoked.body.data[2]).toMatchObject({ revokedReason: "admin" });
    expect(withRevoked.body.data[2].refreshExpiresAt).toBeUndefined();
    expect(await collectAll(`/api/v1/consumers/${id}/sessions`, { includeRevoked: "true" }, org)).toEqual(ids);
  });
});

describe("revocation", () => {
  test("revoking one session is logout: /check and /introspect refuse it at once, refresh says session_revoked, the event says admin; the other session lives", async () => {
    const a = await otpSignIn({ email: "revoke.one@example.com" });
    const b = await otpSignIn({ email: "revoke.one@example.com" });
    expect(b.session.consumerId).toBe(a.session.consumerId);
    const id = a.session.consumerId;
    expect((await check(a.accessToken)).status).toBe(200);

    const res = await asOperator("post", `/api/v1/consumers/${id}/sessions/${a.session.sessionId}/revoke`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 1 });

    expect((await check(a.accessToken)).status).toBe(401);
    expect((await introspect(a.accessToken)).body).toEqual({ active: false });
    const r = await refresh(a.refreshToken);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("session_revoked");
    // The consumer's other session still works (check and refresh).
    expect((await check(b.accessToken)).status).toBe(200);
    expect((await refresh(b.refreshToken)).status).toBe(200);

    await eventually(() => revokedEvents.some((e) => e.data.sessionId === a.session.sessionId), 5_000);
    const ev = revokedEvents.find((e) => e.data.sessionId === a.session.sessionId);
    expect(ev).toMatchObject({ organizationId: w.orgA.organization.id, mode: "live", data: { consumerId: id, reason: "admin" } });

    // Again: nothing left to revoke, no second event.
    expect((await asOperator("post", `/api/v1/consumers/${id}/sessions/${a.session.sessionId}/revoke`)).body).toEqual({ revoked: 0 });
    await w.ca.deps.relay.flush();
    expect(revokedEvents.filter((e) => e.data.sessionId === a.session.sessionId)).toHaveLength(1);
    const one = await asOperator("get", `/api/v1/consumers/${id}`);
    expect(one.body.activeSessions).toBe(1);
  });

  test("revoke all (with the secret key): every live session of the consumer ends, other consumers' stay", async () => {
    const sessions = [
      await otpSignIn({ phone: "+1 202 555 0172" }),
      await otpSignIn({ phone: "+1 202 555 0172" }),
      await otpSignIn({ phone: "+1 202 555 0172" }),
    ];
    const bystander = await otpSignIn({ phone: "+1 202 555 0173" });
    const id = sessions[0]?.session.consumerId as string;
    const res = await asSecretKey("post", `/api/v1/consumers/${id}/sessions/revoke`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 3 });
    for (const s of sessions) {
      expect((await check(s.accessToken)).status).toBe(401);
      expect((await refresh(s.refreshToken)).body.error).toBe("session_revoked");
    }
    expect((await check(bystander.accessToken)).status).toBe(200);
    expect((await asSecretKey("post", `/api/v1/consumers/${id}/sessions/revoke`)).body).toEqual({ revoked: 0 });
    expect((await asOperator("get", `/api/v1/consumers/${id}/sessions`)).body.data).toEqual([]);
    const stored = await w.ca.deps.prisma.session.findMany({ where: { consumerId: id } });
    expect(stored.map((s) => s.revokedReason)).toEqual(["admin", "admin", "admin"]);
    await eventually(() => sessions.every((s) => revokedEvents.some((e) => e.data.sessionId === s.session.sessionId)), 5_000);
  });
});

describe("stats", () => {
  test("sign-ins per UTC day by method (guest, email OTP, SMS OTP), live sessions, consumers by kind; this organization and mode only", async () => {
    const org = await w.admin.createOrganization({ name: "Stats Org" });
    await guest(org);
    await guest(org);
    const email = await otpSignIn({ email: "stats@example.com" }, org);
    await otpSignIn({ email: "stats@example.com" }, org);
    await otpSignIn({ phone: "+44 7911 123456" }, org);
    // Noise elsewhere: another mode and another organization.
    await guest(org, "test");
    await otpSignIn({ email: "stats@example.com" }, w.orgB);
    // A sign-in three days ago (moved back in time) and one the retention pruner already deleted.
    const old = await guest(org);
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    await w.ca.deps.prisma.session.update({ where: { id: old.session.sessionId }, data: { createdAt: threeDaysAgo } });
    await w.ca.deps.prisma.prunedSignIn.create({
      data: {
        organizationId: org.organization.id,
        mode: "live",
        day: new Date(`${day(threeDaysAgo)}T00:00:00Z`),
        method: "phone_otp",
        count: 2,
      },
    });
    await asOperator("post", `/api/v1/consumers/${email.session.consumerId}/sessions/${email.session.sessionId}/revoke`, org).expect(200);

    const res = await asOperator("get", "/api/v1/stats/consumers", org).query({ days: "7" });
    expect(res.status).toBe(200);
    expect(res.body.days.map((d: { date: string }) => d.date)).toEqual(
      Array.from({ length: 7 }, (_, i) => day(new Date(Date.now() - (6 - i) * 86_400_000))),
    );
    expect(res.body.days[6].signIns).toEqual({ guest: 2, email_otp: 2, phone_otp: 1, external: 0 });
    expect(res.body.days[3].signIns).toEqual({ guest: 1, email_otp: 0, phone_otp: 2, external: 0 });
    for (const i of [0, 1, 2, 4, 5]) expect(res.body.days[i].signIns).toEqual({ guest: 0, email_otp: 0, phone_otp: 0, external: 0 });
    // 6 sessions in live, one revoked.
    expect(res.body.activeSessions).toBe(5);
    expect(res.body.consumers).toEqual({ total: 5, registered: 2, guest: 3 });

    expect((await asOperator("get", "/api/v1/stats/consumers", org)).body.days).toHaveLength(14);
    const testMode = await asSecretKey("get", "/api/v1/stats/consumers", org, "test").query({ days: "1" });
    expect(testMode.body).toEqual({
      days: [{ date: day(new Date()), signIns: { guest: 1, email_otp: 0, phone_otp: 0, external: 0 } }],
      activeSessions: 1,
      consumers: { total: 1, registered: 0, guest: 1 },
    });
  });
});

test("sessions the retention pruner deletes keep counting in their day's sign-ins", async () => {
  const org = await w.admin.createOrganization({ name: "Pruned Org" });
  const a = await guest(org);
  const b = await otpSignIn({ phone: "+1 202 555 0188" }, org);
  // Both signed in 10 days ago, logged out (revoked) and long expired: past SESSION_RETENTION_DAYS (7).
  for (const s of [a, b]) {
    await w.ca.deps.prisma.session.update({
      where: { id: s.session.sessionId },
      data: {
        createdAt: new Date(Date.now() - 10 * 86_400_000),
        accessExpiresAt: new Date(Date.now() - 10 * 86_400_000),
        revokedAt: new Date(Date.now() - 10 * 86_400_000),
        revokedReason: "logout",
      },
    });
  }
  const stats = async () => (await asOperator("get", "/api/v1/stats/consumers", org).query({ days: "14" })).body;
  const before = await stats();
  expect(before.days[3].signIns).toEqual({ guest: 1, email_otp: 0, phone_otp: 1, external: 0 });
  // A day older than any window: dropped by the same round.
  await w.ca.deps.prisma.prunedSignIn.create({
    data: {
      organizationId: org.organization.id,
      mode: "live",
      day: new Date(`${day(new Date(Date.now() - 100 * 86_400_000))}T00:00:00Z`),
      method: "guest",
      count: 1,
    },
  });
  const round = await createConsumerAuthPruner(w.ca.deps).runOnce();
  expect(round.sessions).toBeGreaterThanOrEqual(2);
  expect(await w.ca.deps.prisma.session.count({ where: { id: { in: [a.session.sessionId, b.session.sessionId] } } })).toBe(0);
  expect(await stats()).toEqual(before);
  const kept = await w.ca.deps.prisma.prunedSignIn.findMany({ where: { organizationId: org.organization.id }, orderBy: { method: "asc" } });
  expect(kept.map((r) => [day(r.day), r.method, Number(r.count)])).toEqual([
    [before.days[3].date, "guest", 1],
    [before.days[3].date, "phone_otp", 1],
  ]);
});

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

describe("hostile input", () => {
  test("bad query strings, cursors and ids are 400 (or 404 for a path id), answered before any query, changing nothing", async () => {
    const victim = await otpSignIn({ email: "hostile@example.com" });
    const id = victim.session.consumerId;
    const before = await storedState(id);
    const bad: Array<[string, string]> = [
      ["get", "/api/v1/consumers?limit=0"],
      ["get", "/api/v1/consumers?limit=101"],
      ["get", "/api/v1/consumers?limit=abc"],
      ["get", "/api/v1/consumers?limit=1.5"],
      ["get", "/api/v1/consumers?limit=1&limit=2"],
      ["get", "/api/v1/consumers?q=a&q=b"],
      ["get", "/api/v1/consumers?q=%00"],
      ["get", "/api/v1/consumers?__proto__=1"],
      ["get", `/api/v1/consumers?q=${"a".repeat(321)}`],
      ["get", "/api/v1/consumers?q=%01%02"],
      ["get", "/api/v1/consumers?cursor=not-a-cursor"],
      ["get", "/api/v1/consumers?cursor=%27%3B%20DROP%20TABLE%20consumers%3B--"],
      ["get", `/api/v1/consumers?cursor=${Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000000Z", "x'; --"])).toString("base64url")}`],
      ["get", `/api/v1/consumers?cursor=${Buffer.from(JSON.stringify(["yesterday", id])).toString("base64url")}`],
      ["get", `/api/v1/consumers/${id}/sessions?includeRevoked=yes`],
      [
        "get",
        `/api/v1/consumers/${id}/sessions?cursor=${Buffer.from(JSON.stringify(["2026-01-01T00:00:00.000000Z", id])).toString("base64url")}`,
      ],
      ["get", "/api/v1/stats/consumers?days=0"],
      ["get", "/api/v1/stats/consumers?days=91"],
      ["get", "/api/v1/stats/consumers?days=-1"],
      ["get", "/api/v1/stats/consumers?days=1&days=2"],
    ];
    for (const [method, path] of bad) {
      const res = await asOperator(method as "get", path);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body.error).toBe("validation_error");
    }
    for (const path of [
      `/api/v1/consumers/${encodeURIComponent("' OR '1'='1")}`,
      `/api/v1/consumers/${id}x'--/sessions`,
      `/api/v1/consumers/cons_${"A".repeat(200)}`,
    ]) {
      const res = await asOperator("get", path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    for (const path of [
      `/api/v1/consumers/${id}/sessions/${encodeURIComponent("sess_1' OR '1'='1")}/revoke`,
      `/api/v1/consumers/${encodeURIComponent("cons_%")}/sessions/revoke`,
      `/api/v1/consumers/${id}/sessions/${id}/revoke`,
    ]) {
      const res = await asOperator("post", path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect(await storedState(id)).toEqual(before);
    expect((await check(victim.accessToken)).status).toBe(200);
  });

  test("one bad request among concurrent good ones fails alone", async () => {
    const people = [];
    for (const email of ["c1@example.com", "c2@example.com", "c3@example.com"]) people.push(await otpSignIn({ email }));
    const results = await Promise.all([
      ...people.map((p) => asOperator("get", `/api/v1/consumers/${p.session.consumerId}`)),
      asOperator("get", "/api/v1/consumers?cursor=%00%00"),
      asOperator("get", `/api/v1/consumers/${encodeURIComponent("cons_\u0000")}`),
      ...people.map((p) => asOperator("get", "/api/v1/consumers").query({ q: p.session.consumerId })),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 400, 400, 200, 200, 200]);
    expect(results.slice(5).map((r) => r.body.data[0]?.id)).toEqual(people.map((p) => p.session.consumerId));
  });
});

test("the OpenAPI document lists the Admin API with both credentials", () => {
  const doc = consumerAuthOpenApi({ demo: false });
  const ops = [
    doc.paths["/api/v1/consumers"]?.get,
    doc.paths["/api/v1/consumers/{consumerId}"]?.get,
    doc.paths["/api/v1/consumers/{consumerId}/sessions"]?.get,
    doc.paths["/api/v1/consumers/{consumerId}/sessions/{sessionId}/revoke"]?.post,
    doc.paths["/api/v1/consumers/{consumerId}/sessions/revoke"]?.post,
    doc.paths["/api/v1/stats/consumers"]?.get,
  ];
  for (const op of ops) {
    expect(op?.tags).toEqual(["Admin API"]);
    expect(op?.security).toEqual([{ consumerOperatorToken: [] }, { consumerSecretKey: [] }]);
  }
  expect(doc.components.securitySchemes.consumerOperatorToken).toMatchObject({ type: "http", scheme: "bearer" });
});
