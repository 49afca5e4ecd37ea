import { createHmac, createPublicKey, generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { eventually } from "@authplane/service-kit/testing";
import { startConsumerAuthForTest } from "../src/testing.js";
import { activePrivateKey, b64url, decodePart, publishableKeyFor, startWorld, type World, request } from "./helpers.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { INTERNAL_INTROSPECTION_TOKEN: "internal-introspection-token-for-tests-0123456789" } });
});
afterAll(async () => {
  await w?.stop();
});

const INTERNAL = "internal-introspection-token-for-tests-0123456789";

async function guest(pk: string) {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(res.status).toBe(200);
  return res.body as {
    session: { type: string; consumerId: string; guestId: string; expiresAt: string; sessionId: string };
    accessToken: string;
    refreshToken: string;
  };
}

function check(token: string, app: Parameters<typeof request>[0] = w.ca.app) {
  return request(app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", publishableKeyFor(w, token));
}

function introspect(token: string, bearer: string, app = w.ca.app) {
  return request(app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${bearer}`).send({ token });
}

describe("POST /guest", () => {
  test("answers the seed shape with an EdDSA JWT carrying the seed claims", async () => {
    const before = Date.now();
    const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
    expect(res.status).toBe(200);
    const b = res.body;
    expect(Object.keys(b)).toEqual(expect.arrayContaining(["session", "accessToken", "refreshToken"]));
    expect(b.session.type).toBe("guest");
    expect(b.session.consumerId).toMatch(/^guest_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(b.session.guestId).toBe(b.session.consumerId);
    expect(b.session.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const exp = Date.parse(b.session.expiresAt);
    expect(exp - before).toBeGreaterThan(3590_000); // 1 h default
    expect(exp - before).toBeLessThan(3610_000);
    expect(b.refreshToken).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    expect(b.refreshTokenTtlSeconds).toBe(2592000);
    const [h, p] = b.accessToken.split(".");
    const header = decodePart(h);
    expect(header).toEqual({ alg: "EdDSA", typ: "JWT", kid: expect.stringMatching(/^sig_/) });
    const claims = decodePart(p);
    expect(claims).toMatchObject({
      consumerId: b.session.consumerId,
      organizationId: w.orgA.organization.id,
      sessionId: expect.stringMatching(/^sess_/),
      sub: b.session.consumerId,
      mode: "live",
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    // Stored: consumer, session and a hashed refresh token (never the token itself).
    const rows = await w.ca.deps.prisma.refreshToken.findMany({ where: { sessionId: claims.sessionId as string } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.tokenHash).not.toContain(b.refreshToken);
    const consumer = await w.ca.deps.prisma.consumer.findUnique({ where: { id: b.session.consumerId } });
    expect(consumer).toMatchObject({ kind: "guest", organizationId: w.orgA.organization.id, mode: "live" });
  });

  test("missing or unknown key -> 401 Authentication required; a secret key is not a publishable key", async () => {
    const none = await request(w.ca.app).post("/api/v1/auth/guest");
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Authentication required" });
    const bogus = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", "pk_live_0000000000000000000000000000");
    expect(bogus.status).toBe(401);
    expect(bogus.body).toEqual({ error: "Authentication required" });
    const sk = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.secret.live);
    expect(sk.status).toBe(401);
  });

  test("test key gives a test-mode session", async () => {
    const g = await guest(w.orgA.keys.publishable.test);
    expect(decodePart(g.accessToken.split(".")[1]).mode).toBe("test");
  });
});

describe("GET /check and POST /introspect", () => {
  test("a live token passes /check with identity headers and introspects active", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const res = await check(g.accessToken);
    expect(res.status).toBe(200);
    expect(res.headers["x-consumer-id"]).toBe(g.session.consumerId);
    expect(res.headers["x-organization-id"]).toBe(w.orgA.organization.id);
    expect(res.headers["x-session-id"]).toBe(g.session.sessionId);
    expect(res.headers["x-mode"]).toBe("live");
    const intro = await introspect(g.accessToken, w.orgA.keys.secret.live);
    expect(intro.status).toBe(200);
    expect(intro.body).toEqual({
      active: true,
      consumerId: g.session.consumerId,
      organizationId: w.orgA.organization.id,
      sessionId: g.session.sessionId,
      mode: "live",
      exp: decodePart(g.accessToken.split(".")[1]).exp,
    });
    const internal = await introspect(g.accessToken, INTERNAL).set("X-Organization-Id", w.orgA.organization.id).set("X-Mode", "live");
    expect(internal.body.active).toBe(true);
  });

  test("introspect needs a secret key or the internal token", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const none = await request(w.ca.app).post("/api/v1/auth/introspect").send({ token: g.accessToken });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Authentication required" });
    const pk = await introspect(g.accessToken, w.orgA.keys.publishable.live);
    expect(pk.status).toBe(403);
    expect(pk.body).toEqual({ error: "Secret key required" });
    const wrongInternal = await introspect(g.accessToken, "internal-introspection-token-for-tests-XXXXXXXXXX");
    expect(wrongInternal.status).toBe(401);
    const bad = await request(w.ca.app).post("/api/v1/auth/introspect").set("Authorization", `Bearer ${w.orgA.keys.secret.live}`).send({});
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
  });

  test("org A token with org B keys: introspect inactive, check/logout refused", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    expect((await introspect(g.accessToken, w.orgB.keys.secret.live)).body).toEqual({ active: false });
    const c = await check(g.accessToken).set("X-Publishable-Key", w.orgB.keys.publishable.live);
    expect(c.status).toBe(401);
    const lo = await request(w.ca.app)
      .post("/api/v1/auth/logout")
      .set("Authorization", `Bearer ${g.accessToken}`)
      .set("X-Publishable-Key", w.orgB.keys.publishable.live);
    expect(lo.status).toBe(401);
    expect((await check(g.accessToken)).status).toBe(200); // still alive
  });

  test("test token against live keys: inactive / refused", async () => {
    const g = await guest(w.orgA.keys.publishable.test);
    expect((await introspect(g.accessToken, w.orgA.keys.secret.live)).body).toEqual({ active: false });
    expect((await introspect(g.accessToken, w.orgA.keys.secret.test)).body.active).toBe(true);
    expect((await check(g.accessToken).set("X-Publishable-Key", w.orgA.keys.publishable.live)).status).toBe(401);
    const refresh = await request(w.ca.app)
      .post("/api/v1/auth/refresh")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ refreshToken: g.refreshToken });
    expect(refresh.status).toBe(401);
  });
});

describe("attacker-side token forgery", () => {
  async function refused(token: string) {
    expect((await check(token)).status).toBe(401);
    expect((await introspect(token, w.orgA.keys.secret.live)).body).toEqual({ active: false });
    const lo = await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${token}`);
    expect(lo.status).toBe(401);
  }

  test("alg none", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const [h, p] = g.accessToken.split(".");
    const kid = decodePart(h).kid;
    await refused(`${b64url({ alg: "none", typ: "JWT", kid })}.${p}.`);
    await refused(`${b64url({ alg: "none", typ: "JWT", kid })}.${p}`);
  });

  test("HS256 signed with the public key bytes (key confusion)", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const [h, p] = g.accessToken.split(".");
    const kid = decodePart(h).kid as string;
    const jwks = (await request(w.ca.app).get("/.well-known/jwks.json")).body as { keys: Array<{ kid: string; x: string }> };
    const jwk = jwks.keys.find((k) => k.kid === kid);
    expect(jwk).toBeDefined();
    const pem = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk?.x ?? "" }, format: "jwk" })
      .export({ format: "pem", type: "spki" })
      .toString();
    for (const secret of [Buffer.from(jwk?.x ?? "", "base64url"), Buffer.from(pem), Buffer.from(jwk?.x ?? "")]) {
      const head = b64url({ alg: "HS256", typ: "JWT", kid });
      const sig = createHmac("sha256", secret).update(`${head}.${p}`).digest("base64url");
      await refused(`${head}.${p}.${sig}`);
    }
  });

  test("unknown Ed25519 key, with the real kid and with a made-up kid", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const claims = decodePart(g.accessToken.split(".")[1]);
    const realKid = decodePart(g.accessToken.split(".")[0]).kid as string;
    const { privateKey } = generateKeyPairSync("ed25519");
    for (const kid of [realKid, "sig_01HXXXXXXXXXXXXXXXXXXXXXXX", "../../etc/passwd"]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid }).sign(privateKey);
      await refused(forged);
    }
  });

  test("wrong kid on a genuinely signed token, expired token, tampered payload", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const claims = decodePart(g.accessToken.split(".")[1]);
    const { kid, key } = await activePrivateKey(w.ca);
    // Control: the real key with the right kid verifies.
    const control = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid }).sign(key);
    expect((await check(control)).status).toBe(200);
    const wrongKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "sig_01HZZZZZZZZZZZZZZZZZZZZZZZ" })
      .sign(key);
    await refused(wrongKid);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ...claims, iat: now - 7200, exp: now - 60 })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid })
      .sign(key);
    // Expired: refused wherever the token authorizes (check, introspect). Logout alone still takes
    // it while the session is alive, so a session can always be ended (lapsed-access-token.test.ts).
    expect((await check(expired)).status).toBe(401);
    expect((await introspect(expired, w.orgA.keys.secret.live)).body).toEqual({ active: false });
    const [h, p, s] = g.accessToken.split(".");
    const tampered = `${h}.${b64url({ ...decodePart(p), consumerId: "guest_01HAAAAAAAAAAAAAAAAAAAAAAA", sub: "guest_01HAAAAAAAAAAAAAAAAAAAAAAA" })}.${s}`;
    await refused(tampered);
    const otherOrg = `${h}.${b64url({ ...decodePart(p), organizationId: w.orgB.organization.id })}.${s}`;
    await refused(otherOrg);
    await refused("not-a-jwt");
    expect((await request(w.ca.app).get("/api/v1/auth/check")).status).toBe(401);
  });
});

describe("logout", () => {
  test("204, then the access token is refused at once and the refresh token no longer works", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const lo = await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${g.accessToken}`);
    expect(lo.status).toBe(204);
    expect(lo.text).toBe("");
    expect((await check(g.accessToken)).status).toBe(401);
    expect((await introspect(g.accessToken, w.orgA.keys.secret.live)).body).toEqual({ active: false });
    const r = await request(w.ca.app)
      .post("/api/v1/auth/refresh")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ refreshToken: g.refreshToken });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("session_revoked");
    const session = await w.ca.deps.prisma.session.findUnique({ where: { id: g.session.sessionId } });
    expect(session?.revokedReason).toBe("logout");
    // A second logout with the dead token is refused.
    expect((await request(w.ca.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${g.accessToken}`)).status).toBe(401);
  });
});

describe("JWKS, rotation and a second instance", () => {
  test("JWKS serves the public keys with cache headers and no private material", async () => {
    const res = await request(w.ca.app).get("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of res.body.keys) {
      expect(k).toEqual({
        kty: "OKP",
        crv: "Ed25519",
        x: expect.any(String),
        kid: expect.stringMatching(/^sig_/),
        alg: "EdDSA",
        use: "sig",
      });
    }
  });

  test("rotation: old tokens keep verifying and stay in the JWKS; a second instance agrees and serves the same sessions", async () => {
    const old = await guest(w.orgA.keys.publishable.live);
    const oldKid = decodePart(old.accessToken.split(".")[0]).kid as string;
    // A second instance: its own deps (Prisma, Redis, NATS, key cache) listening on its own port.
    const second = await startConsumerAuthForTest(w.iso, { listen: true });
    const secondUrl = second.url ?? "";
    try {
      expect(second.deps.tokens.activeKid).toBe(oldKid);
      // Signs at once (as a withdrawal's replacement does); the publication delay of an ordinary
      // rotation is covered by signing-keys.test.ts.
      const newKid = await w.ca.deps.tokens.rotate({ activateNow: true });
      expect(newKid).not.toBe(oldKid);
      const fresh = await guest(w.orgA.keys.publishable.live);
      expect(decodePart(fresh.accessToken.split(".")[0]).kid).toBe(newKid);
      // Old token still verifies on both instances; the second learns the new kid on first sight.
      expect((await check(old.accessToken)).status).toBe(200);
      expect((await check(old.accessToken, secondUrl)).status).toBe(200);
      // The second instance hears the NATS announcement (or reloads on the unknown kid).
      await eventually(async () => (await check(fresh.accessToken, secondUrl)).status === 200, 3_000);
      const kids = (await request(secondUrl).get("/.well-known/jwks.json")).body.keys.map((k: { kid: string }) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
      // Same sessions: refresh on the second instance, log out there, refused on the first at once.
      const r = await request(secondUrl)
        .post("/api/v1/auth/refresh")
        .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        .send({ refreshToken: old.refreshToken });
      expect(r.status).toBe(200);
      expect(decodePart(r.body.accessToken.split(".")[0]).kid).toBe(newKid);
      expect((await check(r.body.accessToken)).status).toBe(200);
      expect((await request(secondUrl).post("/api/v1/auth/logout").set("Authorization", `Bearer ${r.body.accessToken}`)).status).toBe(204);
      expect((await check(old.accessToken)).status).toBe(401);
      expect((await check(r.body.accessToken)).status).toBe(401);
      // Concurrent scheduled rotation on both instances: still exactly one active key.
      await Promise.all([w.ca.deps.tokens.rotate({ onlyIfDue: true }), second.deps.tokens.rotate({ onlyIfDue: true })]);
      expect(await w.ca.deps.prisma.signingKey.count({ where: { retiredAt: null } })).toBe(1);
    } finally {
      await second.stop();
    }
  });

  test("a retired key leaves the JWKS and stops verifying once its longest token life (+10 min) is over", async () => {
    const old = await guest(w.orgA.keys.publishable.live);
    const oldKid = decodePart(old.accessToken.split(".")[0]).kid as string;
    expect((await check(old.accessToken)).status).toBe(200); // now in the verified-token cache too
    const newKid = await w.ca.deps.tokens.rotate({ activateNow: true });
    const kidsOf = async () => (await request(w.ca.app).get("/.well-known/jwks.json")).body.keys.map((k: { kid: string }) => k.kid);
    expect(await kidsOf()).toEqual(expect.arrayContaining([oldKid, newKid]));

    // Just inside the horizon (MAX_ACCESS_TOKEN_TTL_SECONDS + 600 s after retirement): still published.
    const horizonMs = (w.ca.deps.env.MAX_ACCESS_TOKEN_TTL_SECONDS + 600) * 1000;
    await w.ca.deps.prisma.signingKey.update({ where: { id: oldKid }, data: { retiredAt: new Date(Date.now() - horizonMs + 60_000) } });
    await w.ca.deps.tokens.reload();
    expect(await kidsOf()).toContain(oldKid);
    expect((await check(old.accessToken)).status).toBe(200);

    // Past it: gone from the JWKS, and its tokens are refused (the token cache does not keep them alive).
    await w.ca.deps.prisma.signingKey.update({ where: { id: oldKid }, data: { retiredAt: new Date(Date.now() - horizonMs - 1_000) } });
    await w.ca.deps.tokens.reload();
    const kids = await kidsOf();
    expect(kids).not.toContain(oldKid);
    expect(kids).toContain(newKid);
    expect((await check(old.accessToken)).status).toBe(401);
    expect((await introspect(old.accessToken, w.orgA.keys.secret.live)).body).toEqual({ active: false });
    // Tokens of the active key are unaffected.
    expect((await check((await guest(w.orgA.keys.publishable.live)).accessToken)).status).toBe(200);
  });
});
