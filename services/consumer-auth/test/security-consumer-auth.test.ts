import { SignJWT } from "jose";
import { activePrivateKey, decodePart, publishableKeyFor, startWorld, type World, request } from "./helpers.js";

/** Attacker-side checks of the consumer API (security review). */
let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(async () => {
  await w?.stop();
});

async function guest(pk: string) {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", pk);
  expect(res.status).toBe(200);
  return res.body as { session: { consumerId: string; sessionId: string }; accessToken: string; refreshToken: string };
}

function check(token: string) {
  return request(w.ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", publishableKeyFor(w, token));
}

describe("external authorize: claims cannot stall the event loop", () => {
  test("a pathological claims.email (catastrophic backtracking input) is answered quickly and not taken as an email", async () => {
    // "a@" + many dots + "@": quadratic for /^[^\s@]+@[^\s@]+\.[^\s@]+$/ (several seconds at 60k chars).
    const email = `a@${".".repeat(60_000)}@`;
    const started = Date.now();
    const res = await request(w.ca.app)
      .post("/api/v1/auth/external/authorize")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({ provider: "p", issuer: "https://idp.example", subject: `redos_${Date.now()}`, claims: { email, email_verified: true } });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.resolution).toBe("created");
    expect(elapsed).toBeLessThan(1_000);
    // The code exchanges into a consumer without that "email".
    const x = await request(w.ca.app)
      .post("/api/v1/auth/external/exchange")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ exchangeCode: res.body.exchangeCode });
    expect(x.status).toBe(200);
    expect(x.body.session.email ?? null).toBeNull();
  });
});

describe("access tokens signed with the REAL key but wrong claims/header are refused", () => {
  test("wrong iss, wrong or missing typ, sub != consumerId, missing or bad mode, bad sessionId", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const claims = decodePart(g.accessToken.split(".")[1]);
    const { kid, key } = await activePrivateKey(w.ca);
    const sign = (c: Record<string, unknown>, header: Record<string, unknown> = { alg: "EdDSA", typ: "JWT", kid }) =>
      new SignJWT(c).setProtectedHeader({ alg: "EdDSA", ...header }).sign(key);
    // Control: the real key and the real claims pass.
    expect((await check(await sign(claims))).status).toBe(200);
    const { mode: _mode, ...noMode } = claims;
    const forged = [
      await sign({ ...claims, iss: "https://evil.example" }),
      await sign({ ...claims, iss: undefined }),
      await sign(claims, { typ: "at+jwt", kid }),
      await sign(claims, { kid }),
      await sign({ ...claims, sub: "cons_01HAAAAAAAAAAAAAAAAAAAAAAA" }),
      await sign(noMode),
      await sign({ ...claims, mode: "prod" }),
      await sign({ ...claims, sessionId: "x" }),
      await sign({ ...claims, exp: undefined }),
    ];
    for (const token of forged) {
      expect((await check(token)).status).toBe(401);
    }
  });
});

describe("refresh tokens are bound to the key's organization and mode", () => {
  test("another org's or mode's publishable key gets 401 and does NOT spend the token", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    for (const pk of [w.orgB.keys.publishable.live, w.orgA.keys.publishable.test]) {
      const r = await request(w.ca.app).post("/api/v1/auth/refresh").set("X-Publishable-Key", pk).send({ refreshToken: g.refreshToken });
      expect(r.status).toBe(401);
      expect(JSON.stringify(r.body)).not.toContain(g.refreshToken);
    }
    const ok = await request(w.ca.app)
      .post("/api/v1/auth/refresh")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ refreshToken: g.refreshToken });
    expect(ok.status).toBe(200);
    expect(decodePart(ok.body.accessToken.split(".")[1]).sessionId).toBe(g.session.sessionId);
  });
});

describe("error bodies do not echo secrets or internals", () => {
  test("broken JSON carrying a refresh token -> 400 validation_error without the token or a stack", async () => {
    const g = await guest(w.orgA.keys.publishable.live);
    const r = await request(w.ca.app)
      .post("/api/v1/auth/refresh")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .set("Content-Type", "application/json")
      .send(`{"refreshToken": "${g.refreshToken}"`);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("validation_error");
    const text = JSON.stringify(r.body);
    expect(text).not.toContain(g.refreshToken);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  test("a body over the size limit is 413, not a 500", async () => {
    const r = await request(w.ca.app)
      .post("/api/v1/auth/refresh")
      .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      .send({ refreshToken: "x".repeat(200_000) });
    expect(r.status).toBe(413);
    expect(r.body.error).toBe("payload_too_large");
  });
});
