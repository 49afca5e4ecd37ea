/**
 * The typed Node client (packages/node) against the real built services through the gateway: every
 * method it has, its answers parsed by the contracts, and the APIs' errors as typed exceptions.
 */
import {
  AuthenticationError,
  Authplane,
  ConflictError,
  InvalidRequestError,
  isPasskeyError,
  NotFoundError,
  PermissionError,
} from "@authplane/node";
import { SoftAuthenticator } from "../../../services/webauthn-credential/test/support/soft-authenticator.js";
import { type Stack, startStack } from "../src/stack.mjs";

const ORIGIN = "https://shop.example.com";
const RP = { rpId: "shop.example.com", rpName: "Shop", origins: [ORIGIN] };

let stack: Stack;
let gw: string;

beforeAll(async () => {
  stack = await startStack({ services: ["admin-key", "consumer-auth", "webauthn-credential"], gateway: true });
  gw = stack.gatewayUrl;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function clientApi(pk: string, path: string, body: unknown) {
  const res = await fetch(`${gw}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${pk}:`).toString("base64")}`, origin: ORIGIN },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { result: { token: string; publicKey: never } };
  if (res.status !== 200) throw new Error(`${path} ${res.status} ${JSON.stringify(json)}`);
  return json.result;
}

test("operator and Admin API: organizations, settings, keys (create, rotate, revoke), with typed errors", async () => {
  const operator = new Authplane({ baseUrl: gw, operatorToken: stack.operatorToken }).operator;
  const created = await operator.createOrganization({ name: "Node client", webauthn: RP });
  expect(created.organization.id).toMatch(/^org_/);
  expect(created.keys.secret.test).toMatch(/^sk_test_/);
  const orgId = created.organization.id;

  expect((await operator.getOrganization(orgId)).name).toBe("Node client");
  const listed = await operator.listOrganizations({ limit: 200 });
  expect(listed.organizations.map((o) => o.id)).toContain(orgId);
  const testSettings = await operator.updateSettings(orgId, "test", { accessTokenTtlSeconds: 600 });
  expect(testSettings.accessTokenTtlSeconds).toBe(600);
  expect((await operator.getSettings(orgId, "live")).accessTokenTtlSeconds).not.toBe(600);
  await expect(operator.getOrganization("org_01JC0000000000000000000000")).rejects.toMatchObject({
    constructor: NotFoundError,
    status: 404,
    code: "organization_not_found",
  });
  await expect(new Authplane({ baseUrl: gw, operatorToken: "wrong" }).operator.listOrganizations()).rejects.toMatchObject({
    constructor: AuthenticationError,
    code: "Authentication required",
  });

  const admin = new Authplane({ baseUrl: gw, secretKey: created.keys.secret.test }).admin;
  expect((await admin.getSettings()).accessTokenTtlSeconds).toBe(600);
  const patched = await admin.updateSettings({ allowedOrigins: [ORIGIN] });
  expect(patched.allowedOrigins).toEqual([ORIGIN]);
  const invalid = await admin.updateSettings({ accessTokenTtlSeconds: 1 }).catch((e: unknown) => e);
  expect(invalid).toBeInstanceOf(InvalidRequestError);
  expect((invalid as InvalidRequestError).status).toBe(400);

  const keys = await admin.listKeys();
  expect(keys.every((k) => k.mode === "test")).toBe(true);
  const issued = await admin.createKey({ kind: "secret" });
  expect(issued.value).toMatch(/^sk_test_/);
  expect(issued.passkeySdkValue).toBe(`secret_${issued.value}`);
  const rotated = await admin.rotateKey(issued.key.id, { expiresInSeconds: 0 });
  expect(rotated.previous?.id).toBe(issued.key.id);
  await expect(admin.rotateKey(issued.key.id)).rejects.toMatchObject({ constructor: ConflictError, code: "key_not_active" });
  expect((await admin.revokeKey(rotated.key.id)).status).toBe("revoked");
  // The revoked key now fails, with the seed's wording.
  await expect(new Authplane({ baseUrl: gw, secretKey: rotated.value }).admin.listKeys()).rejects.toMatchObject({
    constructor: AuthenticationError,
    status: 401,
    code: "Authentication required",
  });
});

test("consumer API server side and the passkey server API: exchange code, introspection, a passkey from attach to verify", async () => {
  const operator = new Authplane({ baseUrl: gw, operatorToken: stack.operatorToken }).operator;
  const { keys } = await operator.createOrganization({ name: "Node client passkeys", webauthn: RP });
  const ap = new Authplane({ baseUrl: gw, secretKey: keys.passkeySdkSecret.test });

  const authorized = await ap.consumer.authorizeExternal({ provider: "google", issuer: "https://accounts.google.com", subject: "node-1" });
  expect(authorized.exchangeCode).toMatch(/^exc_/);
  const exchanged = await fetch(`${gw}/api/v1/auth/external/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-publishable-key": keys.publishable.test },
    body: JSON.stringify({ exchangeCode: authorized.exchangeCode }),
  });
  expect(exchanged.status).toBe(200);
  const session = (await exchanged.json()) as { accessToken: string; session: { consumerId: string } };
  const active = await ap.consumer.introspect(session.accessToken);
  expect(active).toMatchObject({ active: true, consumerId: session.session.consumerId, mode: "test" });
  // Another organization's secret key learns nothing about this token.
  const other = await operator.createOrganization({ name: "Other" });
  expect(await new Authplane({ baseUrl: gw, secretKey: other.keys.secret.test }).consumer.introspect(session.accessToken)).toEqual({
    active: false,
  });
  // A publishable key where the secret key belongs: refused before anything is sent.
  expect(() => new Authplane({ baseUrl: gw, secretKey: keys.publishable.test })).toThrow(TypeError);

  // A passkey: client API (browser side, here a software authenticator), then the Node client.
  const auth = new SoftAuthenticator();
  const regOptions = await clientApi(keys.publishable.test, "/attestation/options", { user: { handle: "ada" } });
  const registered = await clientApi(keys.publishable.test, "/attestation/process", {
    credential: auth.register((regOptions as unknown as { publicKey: never }).publicKey, { origin: ORIGIN }),
  });
  const attached = await ap.passkeys.attachRegistration({ token: registered.token, user: { id: "user-ada", handle: "ada" } });
  expect(attached.id).toMatch(/^ctl_/);
  const found = await ap.passkeys.findCredentials({ user: { id: "user-ada" } });
  expect(found.map((c) => c.id)).toEqual([attached.id]);

  const authOptions = await clientApi(keys.publishable.test, "/assertion/options", { user: { handle: "ada" } });
  const signedIn = await clientApi(keys.publishable.test, "/assertion/process", {
    credential: auth.authenticate((authOptions as unknown as { publicKey: never }).publicKey, { origin: ORIGIN }),
    user: { handle: "ada" },
  });
  const verified = await ap.passkeys.verifyAuthToken({ token: signedIn.token });
  expect(verified.user.id).toBe("user-ada");
  expect(verified.credential?.id).toBe(attached.id);
  // Spent: the API's code, as a typed passkey error.
  const replay = await ap.passkeys.verifyAuthToken({ token: signedIn.token }).catch((e: unknown) => e);
  expect(isPasskeyError(replay)).toBe(true);
  expect(replay).toMatchObject({ status: 400, code: expect.stringMatching(/^(TokenExpired|TokenNotFound)$/) });

  const deactivated = await ap.passkeys.updateCredential({ credentialId: attached.id, active: false });
  expect(deactivated.isActive).toBe(false);
  await expect(ap.passkeys.updateCredential({ credentialId: "ctl_nope", active: true })).rejects.toMatchObject({
    constructor: NotFoundError,
    code: "EntityNotFound",
    api: "passkey",
  });
  // The other organization's key cannot touch this credential.
  const foreign = await new Authplane({ baseUrl: gw, secretKey: other.keys.secret.test }).passkeys
    .updateCredential({ credentialId: attached.id, active: true })
    .catch((e: unknown) => e);
  expect(isPasskeyError(foreign)).toBe(true);
  expect([NotFoundError, PermissionError].some((k) => foreign instanceof k)).toBe(true);
});
