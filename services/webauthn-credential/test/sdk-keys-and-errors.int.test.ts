/**
 * Issue 8, items 1, 6 and 7: the passkey product's public server SDKs, unmodified, against this
 * service. Requests are built as the SDKs build them and answers are read as they read them:
 *
 * - PHP SDK (`SnapAuth\Client`): the constructor throws unless the key starts with `secret_`;
 *   every call is `POST` with `Authorization: Basic base64(":" + secretKey)`, `Accept` and
 *   `Content-Type: application/json`, `Content-Length`, `User-Agent: php-sdk/…`, `X-SDK: php/…`;
 *   `attachRegistration` calls `/credential/create`. An answer must be JSON with a `result` key;
 *   `result: null` must come with a non-empty `errors` list whose first entry has `code` and
 *   `message` (thrown as CodedError), anything else throws MalformedResponse.
 * - Node SDK (`@snapauth/node-sdk`): `Basic btoa(":" + secretKey)`, returns `{ok: response.ok, ...json}`.
 *
 * (Items 2-5 and 8 are in sdk-compat.int.test.ts.)
 */
import { eventually } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { startWebauthnForTest } from "../src/testing.js";
import type { OrgForTest } from "./support/admin.js";
import {
  assertionOptions,
  clientCall,
  enroll,
  expectWrappedError,
  type Harness,
  ORIGIN,
  RP,
  registerPasskey,
  signIn,
  startHarness,
} from "./support/harness.js";
import { ListeningApp, nodeSdk, phpSdkClient, readAsPhpSdk } from "./support/sdks.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

const coded = (code: string, status: number) => ({ codedError: { code, message: expect.any(String), status } });

let h: Harness;
let org: OrgForTest;
let listening: ListeningApp;

/** The PHP SDK against `app` (default: this file's service). */
const phpSdk = (key: string, route: string, params: Record<string, unknown>, at: ListeningApp = listening) =>
  phpSdkClient(at.baseUrl, key).makeApiCall(route, params);
/** The Node SDK's post against this file's service. */
const nodeCall = (key: string, path: string, body: unknown) => nodeSdk(listening.baseUrl, key).call(path, body);
const operator = () => ({ Authorization: `Bearer ${h.admin.operatorToken}` });

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "SDKs", webauthn: RP });
  listening = await ListeningApp.start(h.svc.app);
});
afterAll(async () => {
  await listening?.stop();
  await h?.stop();
});

describe("item 1: every secret key also works in the passkey SDKs' secret_ form", () => {
  it("the operator API shows secret_<sk> next to each secret key, and the PHP SDK works with it unmodified", async () => {
    const created = await supertest(h.admin.app).post("/api/v1/organizations").set(operator()).send({ name: "PHP shop", webauthn: RP });
    expect(created.status).toBe(201);
    const { keys } = created.body as {
      keys: { publishable: { test: string }; secret: { test: string }; passkeySdkSecret: { test: string; live: string } };
    };
    expect(keys.passkeySdkSecret.test).toBe(`secret_${keys.secret.test}`);
    const phpKey = keys.passkeySdkSecret.test;
    // The plain sk_ key is what the PHP SDK's constructor refuses (the reason for the secret_ form).
    expect(() => phpSdk(keys.secret.test, "/auth/verify", { token: "atn_x" })).toThrow("InvalidSecretKey");

    const auth = new SoftAuthenticator();
    const processed = await registerPasskey(h, keys.publishable.test, auth);
    const attached = await phpSdk(phpKey, "/credential/create", { token: processed.body.result.token, user: { id: "php-user-1" } });
    expect(attached).toEqual({ result: expect.objectContaining({ id: expect.stringMatching(/^ctl_/), isActive: true }) });

    const signedIn = await signIn(h, keys.publishable.test, auth);
    const verified = await phpSdk(phpKey, "/auth/verify", { token: signedIn.body.result.token });
    expect(verified).toEqual({ result: expect.objectContaining({ user: expect.objectContaining({ id: "php-user-1" }) }) });
  });

  it("the Node SDK works with either form of the same key", async () => {
    const sk = org.keys.secret.test;
    const auth = new SoftAuthenticator();
    const processed = await registerPasskey(h, org.keys.publishable.test, auth);
    const attach = await nodeCall(`secret_${sk}`, "/registration/attach", {
      token: processed.body.result.token,
      user: { id: "node-1" },
    });
    expect(attach).toMatchObject({ ok: true, status: 200, result: { id: expect.stringMatching(/^ctl_/) } });
    const signedIn = await signIn(h, org.keys.publishable.test, auth);
    const plain = await nodeCall(sk, "/auth/verify", { token: signedIn.body.result.token });
    expect(plain).toMatchObject({ ok: true, result: { user: { id: "node-1" } } });
  });

  it("a key created or rotated with the Admin API shows its passkeySdkValue; rotation, expiry and revocation apply to both forms", async () => {
    const admin = supertest(h.admin.app);
    const owner = org.keys.secret.live;
    const made = await admin.post("/api/v1/keys").set("Authorization", `Bearer ${owner}`).send({ kind: "secret" });
    expect(made.status).toBe(201);
    expect(made.body.passkeySdkValue).toBe(`secret_${made.body.value}`);
    const find = { user: { id: "nobody" } };
    expect(await phpSdk(made.body.passkeySdkValue, "/credential/find", find)).toEqual({ result: { data: [] } });

    // Rotated with 1 s of grace: the old key works in both forms, then is SecretKeyExpired in both.
    const rotated = await admin
      .post(`/api/v1/keys/${made.body.key.id}/rotate`)
      .set("Authorization", `Bearer ${owner}`)
      .send({ expiresInSeconds: 1 });
    expect(rotated.body.passkeySdkValue).toBe(`secret_${rotated.body.value}`);
    expect(await phpSdk(made.body.passkeySdkValue, "/credential/find", find)).toEqual({ result: { data: [] } });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await phpSdk(made.body.passkeySdkValue, "/credential/find", find)).toEqual(coded("SecretKeyExpired", 400));
    expect(await nodeCall(made.body.value, "/credential/find", find)).toMatchObject({
      ok: false,
      status: 400,
      result: null,
      errors: [{ code: "SecretKeyExpired" }],
    });
    expect(await phpSdk(rotated.body.passkeySdkValue, "/credential/find", find)).toEqual({ result: { data: [] } });

    // Revoked: SecretKeyNotFound (not "expired"), in both forms, once keys.v1.revoked reached the service's cache.
    await admin.post(`/api/v1/keys/${rotated.body.key.id}/revoke`).set("Authorization", `Bearer ${owner}`).expect(200);
    const revoked = await eventually(async () => {
      const r = await phpSdk(rotated.body.passkeySdkValue, "/credential/find", find);
      return "codedError" in r ? r : null;
    });
    expect(revoked).toEqual(coded("SecretKeyNotFound", 400));
    expect((await nodeCall(rotated.body.value, "/credential/find", find)).errors?.[0]?.code).toBe("SecretKeyNotFound");
  });

  it("the secret_ form wraps only a secret key: secret_pk_…, secret_secret_sk_…, secret_ alone are InvalidAuthorizationHeader", async () => {
    for (const bad of [`secret_${org.keys.publishable.test}`, `secret_secret_${org.keys.secret.test}`, "secret_", "secret_garbage"])
      expect(await phpSdk(bad, "/credential/find", { user: { id: "x" } })).toEqual(coded("InvalidAuthorizationHeader", 400));
    // A well-formed secret key nobody issued.
    expect(await phpSdk("secret_sk_test_0123456789abcdefghijklmnopqrstuv", "/credential/find", { user: { id: "x" } })).toEqual(
      coded("SecretKeyNotFound", 400),
    );
  });
});

describe("item 6: the error codes the SDKs know, with seed 003's statuses", () => {
  it("server API key problems are 400s: InvalidAuthorizationHeader, SecretKeyNotFound (never PermissionViolation or 401)", async () => {
    const bare = await h.http.post("/auth/verify").set("Content-Type", "application/json").send({ token: "atn_x" });
    expect(readAsPhpSdk(bare.status, bare.text)).toEqual(coded("InvalidAuthorizationHeader", 400));
    const bearer = await h.http.post("/auth/verify").set("Authorization", `Bearer ${org.keys.secret.test}`).send({ token: "atn_x" });
    expect(readAsPhpSdk(bearer.status, bearer.text)).toEqual(coded("InvalidAuthorizationHeader", 400));
    expect(await nodeCall(org.keys.publishable.test, "/auth/verify", { token: "atn_x" })).toMatchObject({
      ok: false,
      status: 400,
      errors: [{ code: "InvalidAuthorizationHeader" }],
    });
    expect(await nodeCall("sk_live_0123456789abcdefghijklmnopqrstuv", "/auth/verify", { token: "atn_x" })).toMatchObject({
      ok: false,
      status: 400,
      errors: [{ code: "SecretKeyNotFound" }],
    });
  });

  it("client API key problems: PublishableKeyNotFound for an unknown or expired publishable key", async () => {
    expectWrappedError(
      await clientCall(h, "pk_test_0123456789abcdefghijklmnopqrstuv", "/assertion/options", {}),
      400,
      "PublishableKeyNotFound",
    );
    const admin = supertest(h.admin.app);
    const owner = org.keys.secret.test;
    const made = await admin.post("/api/v1/keys").set("Authorization", `Bearer ${owner}`).send({ kind: "publishable" }).expect(201);
    expect((await clientCall(h, made.body.value, "/assertion/options", {})).status).toBe(200);
    await admin
      .post(`/api/v1/keys/${made.body.key.id}/rotate`)
      .set("Authorization", `Bearer ${owner}`)
      .send({ expiresInSeconds: 0 })
      .expect(201);
    // The service's key cache drops the key when keys.v1.rotated arrives.
    const expired = await eventually(async () => {
      const r = await clientCall(h, made.body.value, "/assertion/options", {});
      return r.status !== 200 ? r : undefined;
    }).then((r) => r as NonNullable<typeof r>);
    expectWrappedError(expired, 400, "PublishableKeyNotFound");
    expect(expired.body.errors[0].message).toMatch(/expired/);
  });

  it("rtn_/atn_ tokens: never issued is TokenNotFound; spent or past its lifetime is TokenExpired; then the tombstone lapses", async () => {
    const sk = `secret_${org.keys.secret.test}`;
    expect(await phpSdk(sk, "/credential/create", { token: "rtn_neverissued", user: { id: "u" } })).toEqual(coded("TokenNotFound", 400));
    expect(await phpSdk(sk, "/auth/verify", { token: "atn_neverissued" })).toEqual(coded("TokenNotFound", 400));

    // Spent: the second use says so.
    const auth = new SoftAuthenticator();
    const p = await registerPasskey(h, org.keys.publishable.test, auth);
    expect(await phpSdk(sk, "/credential/create", { token: p.body.result.token, user: { id: "tok-1" } })).toMatchObject({
      result: {},
    });
    const again = await phpSdk(sk, "/credential/create", { token: p.body.result.token, user: { id: "tok-1" } });
    expect(again).toEqual({ codedError: { code: "TokenExpired", message: "The registration token was already used.", status: 400 } });
    const s = await signIn(h, org.keys.publishable.test, auth);
    expect(await phpSdk(sk, "/auth/verify", { token: s.body.result.token })).toMatchObject({ result: { user: { id: "tok-1" } } });
    expect(await phpSdk(sk, "/auth/verify", { token: s.body.result.token })).toEqual({
      codedError: { code: "TokenExpired", message: "The authentication token was already used.", status: 400 },
    });

    // Past its lifetime: TokenExpired while the tombstone lasts, TokenNotFound after.
    const short = await startWebauthnForTest(h.iso, { env: { TOKEN_TTL_SECONDS: "1", TOKEN_TOMBSTONE_SECONDS: "2" } });
    const shortListening = await ListeningApp.start(short.app);
    try {
      const hs = { ...h, http: supertest(short.app), svc: short };
      const late = await registerPasskey(hs, org.keys.publishable.test, new SoftAuthenticator());
      const lateAuth = new SoftAuthenticator();
      await enroll(hs, { pk: org.keys.publishable.test, sk: org.keys.secret.test }, lateAuth, { id: "tok-late" });
      const lateSignIn = await signIn(hs, org.keys.publishable.test, lateAuth);
      await new Promise((r) => setTimeout(r, 1_300));
      const body = { token: late.body.result.token, user: { id: "tok-late" } };
      expect(await phpSdk(sk, "/credential/create", body, shortListening)).toEqual({
        codedError: { code: "TokenExpired", message: "The registration token has expired.", status: 400 },
      });
      expect(await phpSdk(sk, "/auth/verify", { token: lateSignIn.body.result.token }, shortListening)).toEqual({
        codedError: { code: "TokenExpired", message: "The authentication token has expired.", status: 400 },
      });
      await new Promise((r) => setTimeout(r, 2_300));
      expect(await phpSdk(sk, "/credential/create", body, shortListening)).toEqual(coded("TokenNotFound", 400));
      expect(await phpSdk(sk, "/auth/verify", { token: lateSignIn.body.result.token }, shortListening)).toEqual(
        coded("TokenNotFound", 400),
      );
    } finally {
      await shortListening.stop();
      await short.stop();
    }
  });

  it("another organization's token is still refused without being spent, live or expired", async () => {
    const other = await h.admin.createOrganization({ name: "Other", webauthn: RP });
    const p = await registerPasskey(h, org.keys.publishable.test, new SoftAuthenticator());
    const foreign = await phpSdk(`secret_${other.keys.secret.test}`, "/credential/create", {
      token: p.body.result.token,
      user: { id: "mallory" },
    });
    expect(foreign).toEqual(coded("PermissionViolation", 403));
    expect(
      await phpSdk(`secret_${org.keys.secret.test}`, "/credential/create", { token: p.body.result.token, user: { id: "owner" } }),
    ).toMatchObject({ result: { id: expect.stringMatching(/^ctl_/) } });
  });

  it("UsingDeactivatedCredential only after the assertion's signature verified", async () => {
    const keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
    const auth = new SoftAuthenticator();
    const id = await enroll(h, keys, auth, { id: "deact-1" });
    expect(await phpSdk(`secret_${keys.sk}`, "/credential/update", { credentialId: id, active: false })).toMatchObject({
      result: { id, isActive: false },
    });

    // Somebody with the publishable key and the credential id, but not the private key, learns nothing.
    const forger = new SoftAuthenticator();
    forger.register({ challenge: "x", rp: { id: RP.rpId, name: "x" }, user: { id: "x", name: "x", displayName: "x" } }, { origin: ORIGIN });
    const publicKey = await assertionOptions(h, keys.pk, {});
    const genuine = auth.authenticate(publicKey, { origin: ORIGIN });
    const forged = forger.authenticate(publicKey, { origin: ORIGIN });
    const forgedCredential = { ...genuine, response: { ...genuine.response, signature: forged.response.signature } };
    expectWrappedError(
      await clientCall(h, keys.pk, "/assertion/process", { credential: forgedCredential }),
      400,
      "AuthenticatingUserAccountNotFound",
    );

    // The holder of the passkey is told why.
    const real = await signIn(h, keys.pk, auth);
    expectWrappedError(real, 403, "UsingDeactivatedCredential");
  });
});

describe("item 7: the service's own errors on passkey paths are wrapped, as the SDKs read them", () => {
  it("an unknown path, a GET and a body that is not JSON are coded errors, never MalformedResponse", async () => {
    const sk = `secret_${org.keys.secret.test}`;
    // A path of another SDK version (the browser SDK 0.1's /auth/createOptions) and a typo.
    expect(await phpSdk(sk, "/auth/createOptions", {})).toEqual(coded("EntityNotFound", 404));
    expect(await phpSdk(sk, "/credential/nope", {})).toEqual(coded("EntityNotFound", 404));
    const get = await h.http.get("/auth/verify");
    expect(readAsPhpSdk(get.status, get.text)).toEqual(coded("EntityNotFound", 404));
    const notJson = await h.http
      .post("/auth/verify")
      .set("Authorization", `Basic ${Buffer.from(`:${sk}`).toString("base64")}`)
      .set("Content-Type", "application/json")
      .send('{"token": "atn_');
    expect(readAsPhpSdk(notJson.status, notJson.text)).toEqual(coded("InvalidInput", 400));
  });
});
