import { generateKeyPairSync } from "node:crypto";
import type { EventEnvelope } from "@authplane/contracts";
import { SignJWT } from "jose";
import { revokedSessionKey } from "../src/usecases/verify-access-token.js";
import { activePrivateKey, b64url, decodePart, openJobCode, startWorld, type World, request } from "./helpers.js";

/**
 * A lapsed access token must not lock anyone out: a tab woken after the token's hour still holds
 * its guest's token. An expired but genuine token still identifies the guest to upgrade (OTP
 * verify, exchange) and still ends its session (logout), while the session is alive (not revoked,
 * still refreshable). Forged, tampered, foreign and revoked tokens stay refused.
 */
let w: World;
let ipSeq = 0;

beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

interface Guest {
  consumerId: string;
  sessionId: string;
  accessToken: string;
  refreshToken: string;
}

async function guest(pk = w.orgA.keys.publishable.live): Promise<Guest> {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(res.status).toBe(200);
  return { ...res.body.session, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/**
 * The same token as the client holds, as it is an hour later: same claims and signing key, `iat`
 * and `exp` moved into the past (what the service itself signed an hour ago).
 */
async function lapsed(token: string, expiredSecondsAgo = 600): Promise<string> {
  const claims = decodePart(token.split(".")[1]);
  const { kid, key } = await activePrivateKey(w.ca);
  const now = Math.floor(Date.now() / 1000);
  const ttl = (claims.exp as number) - (claims.iat as number);
  return new SignJWT({ ...claims, iat: now - expiredSecondsAgo - ttl, exp: now - expiredSecondsAgo })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid })
    .sign(key);
}

/** The payload changed, the signature kept (an attacker editing a token). */
function tampered(token: string, change: Record<string, unknown>): string {
  const [h, p, s] = token.split(".");
  return [h, b64url({ ...decodePart(p), ...change }), s].join(".");
}

async function otpCode(email: string, pk = w.orgA.keys.publishable.live): Promise<string> {
  ipSeq += 1;
  const res = await request(w.ca.app)
    .post("/api/v1/auth/otp/request")
    .set("X-Publishable-Key", pk)
    .set("X-Forwarded-For", `192.0.2.${ipSeq}`)
    .send({ email });
  expect(res.status).toBe(200);
  const msg = await w.ca.deps.jsm.streams.getMessage(w.iso.subjects.otpStream, { last_by_subj: w.iso.subjects.otpRequested });
  if (!msg) throw new Error("no OTP job");
  return openJobCode(msg.json<EventEnvelope>());
}

function verifyOtp(email: string, code: string, bearer: string, pk = w.orgA.keys.publishable.live) {
  ipSeq += 1;
  return request(w.ca.app)
    .post("/api/v1/auth/otp/verify")
    .set("X-Publishable-Key", pk)
    .set("X-Forwarded-For", `192.0.2.${ipSeq}`)
    .set("Authorization", `Bearer ${bearer}`)
    .send({ email, code });
}

async function exchangeCode(): Promise<string> {
  const res = await request(w.ca.app)
    .post("/api/v1/auth/external/authorize")
    .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
    .send({ provider: "shop", issuer: "https://shop.example", subject: `lapsed_${Date.now()}_${Math.random()}` });
  expect(res.status).toBe(200);
  return res.body.exchangeCode as string;
}

function exchange(code: string, bearer: string, pk = w.orgA.keys.publishable.live) {
  return request(w.ca.app)
    .post("/api/v1/auth/external/exchange")
    .set("X-Publishable-Key", pk)
    .set("Authorization", `Bearer ${bearer}`)
    .send({ exchangeCode: code });
}

function logout(bearer: string, pk?: string) {
  const r = request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${bearer}`);
  if (pk) r.set("X-Publishable-Key", pk);
  return r;
}

describe("an expired access token of a live session", () => {
  test("is still expired for /check (nothing else changes)", async () => {
    const g = await guest();
    const check = (token: string) =>
      request(w.ca.app)
        .get("/api/v1/auth/check")
        .set("Authorization", `Bearer ${token}`)
        .set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect((await check(g.accessToken)).status).toBe(200);
    expect((await check(await lapsed(g.accessToken))).status).toBe(401);
  });

  test("OTP verify: identifies the guest, who is upgraded in place", async () => {
    const g = await guest();
    const email = `lapsed-otp-${Date.now()}@example.com`;
    const res = await verifyOtp(email, await otpCode(email), await lapsed(g.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.session).toMatchObject({ type: "otp", consumerId: g.consumerId, email });
    const row = await w.ca.deps.prisma.consumer.findUnique({ where: { id: g.consumerId } });
    expect(row).toMatchObject({ kind: "registered", email });
  });

  test("exchange: identifies the guest, who is upgraded in place", async () => {
    const g = await guest();
    const res = await exchange(await exchangeCode(), await lapsed(g.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.session).toMatchObject({ type: "external", consumerId: g.consumerId });
    expect((await w.ca.deps.prisma.consumer.findUnique({ where: { id: g.consumerId } }))?.kind).toBe("registered");
  });

  test("logout: ends the session (204), with or without the publishable key; a second logout is refused", async () => {
    for (const pk of [w.orgA.keys.publishable.live, undefined]) {
      const g = await guest();
      const old = await lapsed(g.accessToken);
      const res = await logout(old, pk);
      expect(res.status).toBe(204);
      expect((await w.ca.deps.prisma.session.findUnique({ where: { id: g.sessionId } }))?.revokedReason).toBe("logout");
      const refresh = await request(w.ca.app)
        .post("/api/v1/auth/refresh")
        .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        .send({ refreshToken: g.refreshToken });
      expect(refresh.status).toBe(401);
      expect((await logout(old, pk)).status).toBe(401);
    }
  });
});

describe("still refused", () => {
  test("a tampered expired token (OTP verify keeps the code usable; exchange keeps the code)", async () => {
    const g = await guest();
    const victim = await guest();
    const forged = tampered(await lapsed(g.accessToken), { consumerId: victim.consumerId, sub: victim.consumerId });
    const email = `tampered-${Date.now()}@example.com`;
    const code = await otpCode(email);
    const v = await verifyOtp(email, code, forged);
    expect(v.status).toBe(401);
    expect(v.body.error).toBe("invalid_token");
    const x = await exchangeCode();
    const e = await exchange(x, forged);
    expect(e.status).toBe(401);
    expect((await logout(forged)).status).toBe(401);
    // Nothing was upgraded, and the code and exchange code were not burnt by the refusals.
    expect((await w.ca.deps.prisma.consumer.findUnique({ where: { id: victim.consumerId } }))?.kind).toBe("guest");
    expect((await verifyOtp(email, code, g.accessToken)).status).toBe(200);
    expect((await exchange(x, (await guest()).accessToken)).status).toBe(200);
  });

  test("an expired token signed by another key with our kid", async () => {
    const g = await guest();
    const claims = decodePart(g.accessToken.split(".")[1]);
    const { kid } = await activePrivateKey(w.ca);
    const { privateKey } = generateKeyPairSync("ed25519");
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ ...claims, iat: now - 4000, exp: now - 400 })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid })
      .sign(privateKey);
    expect((await logout(forged)).status).toBe(401);
    expect((await exchange(await exchangeCode(), forged)).status).toBe(401);
    expect(await w.ca.deps.prisma.session.findUnique({ where: { id: g.sessionId } })).toMatchObject({ revokedAt: null });
  });

  test("another organization's or mode's expired token (key_mismatch), with the key of this one", async () => {
    for (const other of [w.orgB.keys.publishable.live, w.orgA.keys.publishable.test]) {
      const g = await guest(other);
      const old = await lapsed(g.accessToken);
      const email = `foreign-${other.slice(0, 7)}-${Date.now()}@example.com`;
      const v = await verifyOtp(email, await otpCode(email), old);
      expect(v.status).toBe(401);
      expect(v.body.error).toBe("key_mismatch");
      const e = await exchange(await exchangeCode(), old);
      expect(e.status).toBe(401);
      expect(e.body.error).toBe("key_mismatch");
      const out = await logout(old, w.orgA.keys.publishable.live);
      expect(out.status).toBe(401);
      expect(out.body.error).toBe("key_mismatch");
    }
  });

  test("the expired token of a revoked session, even once the Redis revocation marker has expired", async () => {
    const g = await guest();
    expect((await logout(g.accessToken)).status).toBe(204);
    // The marker lives only as long as the session's access tokens; Postgres keeps revoked_at.
    await w.ca.deps.redis.del(revokedSessionKey(g.sessionId));
    const old = await lapsed(g.accessToken);
    expect((await logout(old)).status).toBe(401);
    const v = await verifyOtp("revoked@example.com", await otpCode("revoked@example.com"), old);
    expect(v.status).toBe(401);
    expect(v.body.error).toBe("invalid_token");
    expect((await exchange(await exchangeCode(), old)).status).toBe(401);
    expect((await w.ca.deps.prisma.consumer.findUnique({ where: { id: g.consumerId } }))?.kind).toBe("guest");
  });

  test("the expired token of a session that can no longer be refreshed (its refresh token expired)", async () => {
    const g = await guest();
    await w.ca.deps.prisma.refreshToken.updateMany({ where: { sessionId: g.sessionId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const old = await lapsed(g.accessToken);
    expect((await exchange(await exchangeCode(), old)).status).toBe(401);
    expect((await logout(old)).status).toBe(401);
    // The unexpired token is judged as before (the session is merely idle, not revoked).
    const check = await request(w.ca.app)
      .get("/api/v1/auth/check")
      .set("Authorization", `Bearer ${g.accessToken}`)
      .set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect(check.status).toBe(200);
  });

  test("the expired token of a session past its absolute lifetime (sign-in + the organization's sessionLifetimeSeconds)", async () => {
    const g = await guest();
    const old = await lapsed(g.accessToken);
    // Signed in 31 days ago (default lifetime 30 days); its refresh token alone would still be valid.
    await w.ca.deps.prisma.session.update({ where: { id: g.sessionId }, data: { createdAt: new Date(Date.now() - 31 * 86_400_000) } });
    const x = await exchange(await exchangeCode(), old);
    expect(x.status).toBe(401);
    expect(x.body.error).toBe("invalid_token");
    const email = `ended-${Date.now()}@example.com`;
    expect((await verifyOtp(email, await otpCode(email), old)).status).toBe(401);
    expect((await w.ca.deps.prisma.consumer.findUnique({ where: { id: g.consumerId } }))?.kind).toBe("guest");
  });
});
