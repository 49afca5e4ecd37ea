import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { startWebauthnForTest } from "../src/testing.js";
import type { OrgForTest } from "./support/admin.js";
import {
  ORIGIN,
  RP,
  basicPk,
  basicSk,
  clientCall,
  enroll,
  expectWrappedError,
  type Harness,
  registerPasskey,
  serverCall,
  signIn,
  startHarness,
} from "./support/harness.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

let h: Harness;
let orgA: OrgForTest;
let orgB: OrgForTest;
let noRp: OrgForTest;
const test = (o: OrgForTest) => ({ pk: o.keys.publishable.test, sk: o.keys.secret.test });
const live = (o: OrgForTest) => ({ pk: o.keys.publishable.live, sk: o.keys.secret.live });

beforeAll(async () => {
  h = await startHarness();
  orgA = await h.admin.createOrganization({ name: "A", webauthn: RP });
  // Same relying party on purpose: only the organization scope separates A's and B's passkeys.
  orgB = await h.admin.createOrganization({ name: "B", webauthn: RP });
  noRp = await h.admin.createOrganization({ name: "No RP" });
});
afterAll(async () => {
  await h?.stop();
});

describe("organizations and modes never mix", () => {
  it("org A's credential: org B cannot update it, find it, attach its token, verify its atn_, or sign in with it", async () => {
    const auth = new SoftAuthenticator();
    const p = await registerPasskey(h, test(orgA).pk, auth);
    const rtn = p.body.result.token;
    // B cannot attach (nor burn) A's registration token.
    expectWrappedError(
      await serverCall(h, test(orgB).sk, "/registration/attach", { token: rtn, user: { id: "mallory" } }),
      403,
      "PermissionViolation",
    );
    const attached = await serverCall(h, test(orgA).sk, "/registration/attach", { token: rtn, user: { id: "alice", handle: "alice" } });
    expect(attached.status).toBe(200);
    const id = attached.body.result.id;

    expectWrappedError(
      await serverCall(h, test(orgB).sk, "/credential/update", { credentialId: id, active: false }),
      403,
      "PermissionViolation",
    );
    const still = await serverCall(h, test(orgA).sk, "/credential/find", { user: { id: "alice" } });
    expect(still.body.result.data[0]).toMatchObject({ id, isActive: true });
    expect((await serverCall(h, test(orgB).sk, "/credential/find", { user: { id: "alice" } })).body.result).toEqual({ data: [] });

    // Sign-in with A's passkey through B's publishable key: unknown to B.
    expectWrappedError(await signIn(h, test(orgB).pk, auth), 400, "AuthenticatingUserAccountNotFound");

    // A's atn_ token cannot be spent by B.
    const ok = await signIn(h, test(orgA).pk, auth);
    expect(ok.status).toBe(200);
    expectWrappedError(await serverCall(h, test(orgB).sk, "/auth/verify", { token: ok.body.result.token }), 403, "PermissionViolation");
    const v = await serverCall(h, test(orgA).sk, "/auth/verify", { token: ok.body.result.token });
    expect(v.body.result.user.id).toBe("alice");
  });

  it("live and test are separate: a test passkey is invisible to live keys", async () => {
    const auth = new SoftAuthenticator();
    const id = await enroll(h, test(orgA), auth, { id: "tess" });
    expectWrappedError(await signIn(h, live(orgA).pk, auth), 400, "AuthenticatingUserAccountNotFound");
    expect((await serverCall(h, live(orgA).sk, "/credential/find", { user: { id: "tess" } })).body.result).toEqual({ data: [] });
    expectWrappedError(
      await serverCall(h, live(orgA).sk, "/credential/update", { credentialId: id, active: false }),
      403,
      "PermissionViolation",
    );
    // A test rtn_ token cannot be attached with the live secret key.
    const p = await registerPasskey(h, test(orgA).pk, new SoftAuthenticator());
    expectWrappedError(
      await serverCall(h, live(orgA).sk, "/registration/attach", { token: p.body.result.token, user: { id: "x" } }),
      403,
      "PermissionViolation",
    );
    // Live works on its own.
    const liveAuth = new SoftAuthenticator();
    await enroll(h, live(orgA), liveAuth, { id: "tess" });
    const r = await signIn(h, live(orgA).pk, liveAuth);
    expect((await serverCall(h, live(orgA).sk, "/auth/verify", { token: r.body.result.token })).body.result.user.id).toBe("tess");
  });
});

describe("authentication of API calls", () => {
  it("server API: every key problem is a 400 with its own code; the key also works as the Basic username", async () => {
    const none = await h.http.post("/credential/find").send({ user: { id: "x" } });
    expectWrappedError(none, 400, "InvalidAuthorizationHeader");
    expectWrappedError(
      await h.http.post("/credential/find").set("Authorization", "Bearer abc").send({}),
      400,
      "InvalidAuthorizationHeader",
    );
    expectWrappedError(
      await serverCall(h, "sk_test_0123456789abcdefghijklmnop", "/credential/find", { user: { id: "x" } }),
      400,
      "SecretKeyNotFound",
    );
    expectWrappedError(await serverCall(h, test(orgA).pk, "/credential/find", { user: { id: "x" } }), 400, "InvalidAuthorizationHeader");
    // The secret key sent as the username (the client API's slot) still authenticates the server API.
    const swapped = await h.http
      .post("/credential/find")
      .set("Authorization", basicPk(test(orgA).sk))
      .send({ user: { id: "x" } });
    expect(swapped.status).toBe(200);
  });

  it("client API: a secret key, no key or not a key is InvalidAuthorizationHeader; an unknown publishable key is PublishableKeyNotFound", async () => {
    expectWrappedError(await clientCall(h, test(orgA).sk, "/attestation/options", {}), 400, "InvalidAuthorizationHeader");
    expectWrappedError(
      await clientCall(h, "pk_test_0123456789abcdefghijklmnop", "/attestation/options", {}),
      400,
      "PublishableKeyNotFound",
    );
    const noAuth = await h.http.post("/assertion/options").set("Origin", ORIGIN).send({});
    expectWrappedError(noAuth, 400, "InvalidAuthorizationHeader");
    // The SDK can read early errors (they say nothing about any organization).
    expect(noAuth.headers["access-control-allow-origin"]).toBe(ORIGIN);
  });

  it("an organization without a relying party gets a clear 403 on the client API", async () => {
    const r = await clientCall(h, test(noRp).pk, "/attestation/options", {});
    expectWrappedError(r, 403, "PermissionViolation");
    expect(r.body.errors[0].message).toMatch(/no relying party configured/);
    expectWrappedError(await clientCall(h, test(noRp).pk, "/assertion/options", {}, null), 403, "PermissionViolation");
  });
});

describe("CORS", () => {
  it("answers the preflight for the SDK's headers, echoing the Origin", async () => {
    for (const path of ["/attestation/options", "/attestation/process", "/assertion/options", "/assertion/process"]) {
      const r = await h.http
        .options(path)
        .set("Origin", ORIGIN)
        .set("Access-Control-Request-Method", "POST")
        .set("Access-Control-Request-Headers", "authorization,content-type,x-sdk");
      expect(r.status).toBe(204);
      expect(r.headers["access-control-allow-origin"]).toBe(ORIGIN);
      expect(r.headers["access-control-allow-methods"]).toContain("POST");
      expect(r.headers["access-control-allow-headers"]).toMatch(/Authorization/);
      expect(r.headers["access-control-allow-headers"]).toMatch(/X-SDK/);
    }
  });

  it("refuses a foreign Origin on the real request with 403 and no Access-Control-Allow-Origin", async () => {
    for (const origin of ["https://evil.example", "null", "https://app.example.com.evil.example", "http://app.example.com"]) {
      const r = await clientCall(h, test(orgA).pk, "/attestation/options", {}, origin);
      expectWrappedError(r, 403, "PermissionViolation");
      expect(r.headers["access-control-allow-origin"]).toBeUndefined();
    }
    const ok = await clientCall(h, test(orgA).pk, "/attestation/options", {}, ORIGIN);
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(ok.headers.vary).toMatch(/Origin/);
  });

  it("requests without an Origin (native apps) pass; the signed origin is still checked", async () => {
    const r = await clientCall(h, test(orgA).pk, "/assertion/options", {}, null);
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("every response is wrapped", () => {
  it("bad bodies, unknown paths and bad JSON answer {result:null, errors:[…]}", async () => {
    expectWrappedError(await serverCall(h, test(orgA).sk, "/registration/attach", { token: 5 }), 400, "InvalidInput");
    expectWrappedError(await serverCall(h, test(orgA).sk, "/registration/attach", { token: "rtn_x" }), 400, "InvalidInput");
    expectWrappedError(
      await serverCall(h, test(orgA).sk, "/credential/update", { credentialId: "ctl_x", active: "no" }),
      400,
      "InvalidInput",
    );
    expectWrappedError(await serverCall(h, test(orgA).sk, "/nope", {}), 404, "EntityNotFound");
    const badJson = await h.http
      .post("/credential/find")
      .set("Authorization", basicSk(test(orgA).sk))
      .set("Content-Type", "application/json")
      .send("{not json");
    expectWrappedError(badJson, 400, "InvalidInput");
    expectWrappedError(await clientCall(h, test(orgA).pk, "/attestation/process", { credential: { id: "x" } }), 400, "InvalidInput");
    const garbage = {
      id: "AAAA",
      rawId: "AAAA",
      type: "public-key",
      response: { clientDataJSON: "bm90LWpzb24", attestationObject: "AAAA" },
      clientExtensionResults: {},
    };
    expectWrappedError(
      await clientCall(h, test(orgA).pk, "/attestation/process", { credential: garbage }),
      400,
      "MalformedAuthenticationData",
    );
    expectWrappedError(
      await clientCall(h, test(orgA).pk, "/assertion/options", { user: { handle: "a", username: "b" } }),
      400,
      "InvalidInput",
    );
  });
});

describe("lifetimes, limits and logs", () => {
  it("expired rtn_, atn_ tokens and challenges are TokenExpired", async () => {
    const short = await startWebauthnForTest(h.iso, { env: { TOKEN_TTL_SECONDS: "1", CHALLENGE_TTL_SECONDS: "1" } });
    try {
      const hs = { ...h, http: supertest(short.app), svc: short };
      const auth = new SoftAuthenticator();
      const p = await registerPasskey(hs, test(orgA).pk, auth);
      expect(p.body.result.expiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1_300));
      expectWrappedError(
        await serverCall(hs, test(orgA).sk, "/registration/attach", { token: p.body.result.token, user: { id: "late" } }),
        400,
        "TokenExpired",
      );

      await enroll(hs, test(orgA), auth, { id: "late" });
      const s = await signIn(hs, test(orgA).pk, auth);
      await new Promise((r) => setTimeout(r, 1_300));
      expectWrappedError(await serverCall(hs, test(orgA).sk, "/auth/verify", { token: s.body.result.token }), 400, "TokenExpired");

      const opts = await clientCall(hs, test(orgA).pk, "/assertion/options", {});
      await new Promise((r) => setTimeout(r, 1_300));
      const credential = auth.authenticate(opts.body.result.publicKey, { origin: ORIGIN });
      expectWrappedError(await clientCall(hs, test(orgA).pk, "/assertion/process", { credential }), 400, "TokenExpired");
    } finally {
      await short.stop();
    }
  });

  it("rate limits per IP answer 429 TooManyRequests with Retry-After, wrapped", async () => {
    const limited = await startWebauthnForTest(h.iso, {
      env: { RATE_LIMIT_IP_PER_MINUTE: "3", REDIS_PREFIX: `${h.iso.redisPrefix}rl:` },
    });
    try {
      const hs = { ...h, http: supertest(limited.app), svc: limited };
      for (let i = 0; i < 3; i++) expect((await clientCall(hs, test(orgA).pk, "/assertion/options", {})).status).toBe(200);
      const r = await clientCall(hs, test(orgA).pk, "/assertion/options", {});
      expectWrappedError(r, 429, "TooManyRequests");
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });

  it("rate limits per key on the server API; another key keeps its own budget", async () => {
    const limited = await startWebauthnForTest(h.iso, {
      env: { RATE_LIMIT_KEY_PER_MINUTE: "2", REDIS_PREFIX: `${h.iso.redisPrefix}rlk:` },
    });
    try {
      const hs = { ...h, http: supertest(limited.app), svc: limited };
      const find = (sk: string) => serverCall(hs, sk, "/credential/find", { user: { id: "nobody" } });
      expect((await find(test(orgA).sk)).status).toBe(200);
      expect((await find(test(orgA).sk)).status).toBe(200);
      const r = await find(test(orgA).sk);
      expectWrappedError(r, 429, "TooManyRequests");
      expect(r.headers["retry-after"]).toBeDefined();
      expect((await find(test(orgB).sk)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it("answers 503 (wrapped InternalError, Retry-After) when admin-key cannot be asked", async () => {
    const lonely = createTestIsolation(); // no admin-key answers keys.v1.verify on these subjects
    const alone = await startWebauthnForTest(lonely);
    try {
      const r = await supertest(alone.app)
        .post("/auth/verify")
        .set("Authorization", basicSk(test(orgA).sk))
        .send({ token: "atn_x" });
      expectWrappedError(r, 503, "InternalError");
      expect(r.headers["retry-after"]).toBeDefined();
    } finally {
      await alone.stop();
      await lonely.cleanup();
    }
  });

  it("never logs keys, tokens or authorization headers", async () => {
    const logs = captureLogs();
    const logged = await startWebauthnForTest(h.iso, { env: { LOG_LEVEL: "trace" }, logDestination: logs.stream });
    try {
      const hs = { ...h, http: supertest(logged.app), svc: logged };
      const auth = new SoftAuthenticator({ counter: "increment" });
      const p = await registerPasskey(hs, test(orgA).pk, auth);
      await serverCall(hs, test(orgA).sk, "/registration/attach", { token: p.body.result.token, user: { id: "logme" } });
      const s = await signIn(hs, test(orgA).pk, auth, { counter: 9 });
      await serverCall(hs, test(orgA).sk, "/auth/verify", { token: s.body.result.token });
      await signIn(hs, test(orgA).pk, auth, { counter: 1 }); // counter anomaly: logged as a warning
      await serverCall(hs, "sk_test_0123456789abcdefghijklmnop", "/auth/verify", { token: "atn_secretish" });
      const text = logs.text();
      expect(text).toContain("signature counter went backwards");
      for (const secret of [
        test(orgA).pk,
        test(orgA).sk,
        p.body.result.token,
        s.body.result.token,
        "sk_test_0123456789abcdefghijklmnop",
        "atn_secretish",
      ])
        expect(text).not.toContain(secret);
      expect(text).not.toMatch(/Basic [A-Za-z0-9+/=]{10,}/);
    } finally {
      await logged.stop();
    }
  });
});
