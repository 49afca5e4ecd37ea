import { EventType } from "@authplane/contracts";
import { eventually } from "@authplane/service-kit/testing";
import { normalizeIdentity } from "../src/otp/normalize-identity.js";
import { createOtpServices } from "../src/otp/otp-services.js";
import { publishableKeyFor, startWorld, type World, request } from "./helpers.js";

// Attacker's side of issue 9 item 5: an attacker creates a guest on a shared device and keeps a
// copy of its tokens; the victim then signs in on that device, which upgrades the guest. None of
// the guest's earlier tokens may follow the victim into the account.

let w: World;
const revoked: Array<{ data: { sessionId: string; consumerId: string; reason: string } }> = [];
let sub: { unsubscribe(): void } | null = null;

beforeAll(async () => {
  w = await startWorld();
  sub = w.ca.deps.nc.subscribe(w.iso.subjects.event(EventType.sessionRevoked), {
    callback: (_e, m) => {
      revoked.push(m.json());
    },
  });
  await w.ca.deps.nc.flush();
});
afterAll(async () => {
  sub?.unsubscribe();
  await w?.stop();
});

const pk = () => w.orgA.keys.publishable.live;
const sk = () => w.orgA.keys.secret.live;

/** The attacker: a guest, refreshed once; the latest pair is the "planted" copy. */
async function plantGuest() {
  const g = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk());
  expect(g.status).toBe(200);
  const r = await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk()).send({ refreshToken: g.body.refreshToken });
  expect(r.status).toBe(200);
  return {
    guestId: g.body.session.consumerId as string,
    sessionId: g.body.session.sessionId as string,
    /** Still valid: the device keeps using it for the victim's sign-in call. */
    deviceAccessToken: g.body.accessToken as string,
    plantedAccessToken: r.body.accessToken as string,
    plantedRefreshToken: r.body.refreshToken as string,
  };
}

function check(token: string) {
  return request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", publishableKeyFor(w, token));
}
function introspect(token: string) {
  return request(w.ca.app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${sk()}`).send({ token });
}
function refresh(token: string) {
  return request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk()).send({ refreshToken: token });
}

/** Deletes every Redis key of this test file (the shared Redis server is never flushed as a whole). */
const flushTestKeys = () => w.iso.flushRedis();

/** What the attacker still holds must all be refused; the victim's new session must work. */
async function expectAttackerLockedOut(
  planted: Awaited<ReturnType<typeof plantGuest>>,
  victim: { accessToken: string; refreshToken: string; session: { consumerId: string; sessionId: string } },
) {
  expect(victim.session.consumerId).toBe(planted.guestId); // upgraded in place
  expect(victim.session.sessionId).not.toBe(planted.sessionId);

  const r = await refresh(planted.plantedRefreshToken);
  expect(r.status).toBe(401);
  expect(r.body.error).toBe("session_revoked");
  for (const token of [planted.plantedAccessToken, planted.deviceAccessToken]) {
    expect((await check(token)).status).toBe(401);
    expect((await introspect(token)).body).toEqual({ active: false });
  }
  // Redis loses its data (restart without persistence, failover, eviction): still refused, because
  // Postgres records the upgrade's revocations and the revoked set is rebuilt from it.
  await flushTestKeys();
  for (const token of [planted.plantedAccessToken, planted.deviceAccessToken]) {
    expect((await check(token)).status).toBe(401);
    expect((await introspect(token)).body).toEqual({ active: false });
  }
  expect((await refresh(planted.plantedRefreshToken)).status).toBe(401);
  // The session is revoked in Postgres with its reason, and sessions.v1.revoked is published.
  const row = await w.ca.deps.prisma.session.findUniqueOrThrow({ where: { id: planted.sessionId } });
  expect(row.revokedAt).toBeInstanceOf(Date);
  expect(row.revokedReason).toBe("guest_upgrade");
  expect(await w.ca.deps.prisma.refreshToken.count({ where: { sessionId: planted.sessionId, revokedAt: null } })).toBe(0);
  await eventually(() => revoked.some((e) => e.data.sessionId === planted.sessionId), 5_000);
  expect(revoked.find((e) => e.data.sessionId === planted.sessionId)?.data).toEqual({
    sessionId: planted.sessionId,
    consumerId: planted.guestId,
    reason: "guest_upgrade",
  });

  // The upgrade's own session is valid and refreshes.
  expect((await check(victim.accessToken)).status).toBe(200);
  const vr = await refresh(victim.refreshToken);
  expect(vr.status).toBe(200);
  expect((await check(vr.body.accessToken)).status).toBe(200);
  expect(revoked.some((e) => e.data.sessionId === victim.session.sessionId)).toBe(false);
}

test("OTP verify upgrading a guest revokes the guest's earlier session: a planted refresh/access token is refused", async () => {
  const planted = await plantGuest();
  // The victim asks for a code on the shared device and types the one they received.
  const email = `victim_${Date.now()}@example.com`;
  const otp = createOtpServices(w.ca.deps);
  await otp.codes.store({ organizationId: w.orgA.organization.id, mode: "live" }, normalizeIdentity({ email }), "424242", "otp_test");
  const v = await request(w.ca.app)
    .post("/api/v1/auth/otp/verify")
    .set("X-Publishable-Key", pk())
    .set("Authorization", `Bearer ${planted.deviceAccessToken}`)
    .send({ email, code: "424242" });
  expect(v.status).toBe(200);
  expect(v.body.session).toMatchObject({ type: "otp", email });
  await expectAttackerLockedOut(planted, v.body);
});

test("external exchange upgrading a guest revokes the guest's earlier session: a planted refresh/access token is refused", async () => {
  const planted = await plantGuest();
  const a = await request(w.ca.app)
    .post("/api/v1/auth/external/authorize")
    .set("Authorization", `Bearer ${sk()}`)
    .send({ provider: "shopify", issuer: "https://store.example", subject: `victim_${Date.now()}` });
  expect(a.status).toBe(200);
  expect(a.body.resolution).toBe("created");
  const x = await request(w.ca.app)
    .post("/api/v1/auth/external/exchange")
    .set("X-Publishable-Key", pk())
    .set("Authorization", `Bearer ${planted.deviceAccessToken}`)
    .send({ exchangeCode: a.body.exchangeCode });
  expect(x.status).toBe(200);
  expect(x.body.session.type).toBe("external");
  await expectAttackerLockedOut(planted, x.body);
});

test("signing in as an identity's existing owner does not upgrade the guest: its session is left alone", async () => {
  const subject = `owner_${Date.now()}`;
  const authorize = () =>
    request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${sk()}`)
      .send({ provider: "shopify", issuer: "https://store.example", subject });
  const first = await request(w.ca.app)
    .post("/api/v1/auth/external/exchange")
    .set("X-Publishable-Key", pk())
    .send({ exchangeCode: (await authorize()).body.exchangeCode });
  expect(first.status).toBe(200);
  const planted = await plantGuest();
  const a = await authorize();
  expect(a.body.resolution).toBe("existing");
  const x = await request(w.ca.app)
    .post("/api/v1/auth/external/exchange")
    .set("X-Publishable-Key", pk())
    .set("Authorization", `Bearer ${planted.deviceAccessToken}`)
    .send({ exchangeCode: a.body.exchangeCode });
  expect(x.status).toBe(200);
  expect(x.body.session.consumerId).toBe(first.body.session.consumerId);
  // The guest stays a guest with its own session; its tokens never reach the owner's account.
  expect((await w.ca.deps.prisma.consumer.findUniqueOrThrow({ where: { id: planted.guestId } })).kind).toBe("guest");
  const r = await refresh(planted.plantedRefreshToken);
  expect(r.status).toBe(200);
  const claims = JSON.parse(Buffer.from(r.body.accessToken.split(".")[1], "base64url").toString("utf8"));
  expect(claims.consumerId).toBe(planted.guestId);
});
