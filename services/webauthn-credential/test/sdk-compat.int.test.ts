import type { OrgForTest } from "./support/admin.js";
import { ORIGIN, RP, clientCall, type Harness, registerPasskey, startHarness } from "./support/harness.js";
import { ListeningApp, nodeSdk, phpSdk } from "./support/sdks.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

/**
 * The public passkey SDKs, unmodified, against this service (issue 8): requests exactly as they
 * send them, answers read exactly as they read them.
 */

let h: Harness;
let org: OrgForTest;
let keys: { pk: string; sk: string };
let listening: ListeningApp;

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "SDKs", webauthn: RP });
  keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
  listening = await ListeningApp.start(h.svc.app);
});
afterAll(async () => {
  await listening?.stop();
  await h?.stop();
});

async function registrationToken(auth = new SoftAuthenticator()): Promise<string> {
  const processed = await registerPasskey(h, keys.pk, auth);
  expect(processed.status).toBe(200);
  return processed.body.result.token as string;
}

async function authToken(auth: SoftAuthenticator, body: Record<string, unknown> = {}): Promise<string> {
  const opts = await clientCall(h, keys.pk, "/assertion/options", body);
  expect(opts.status).toBe(200);
  const credential = auth.authenticate(opts.body.result.publicKey, { origin: ORIGIN });
  const processed = await clientCall(h, keys.pk, "/assertion/process", { credential, ...body });
  expect(processed.status).toBe(200);
  return processed.body.result.token as string;
}

describe("user.username / user.handle null means absent (item 2)", () => {
  it("Node SDK: attachRegistration(token, { id, username: null }) creates the credential", async () => {
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const auth = new SoftAuthenticator();
    const response = await sdk.attachRegistration(await registrationToken(auth), { id: "node-null", username: null });
    expect({ ok: response.ok, status: response.status, errors: response.errors }).toEqual({ ok: true, status: 200, errors: [] });
    expect(response.result).toMatchObject({ id: expect.stringMatching(/^ctl_/), isActive: true });
    const signedIn = await sdk.verifyAuthToken(await authToken(auth, { user: { id: "node-null" } }));
    expect(signedIn.ok).toBe(true);
    expect(signedIn.result.user.id).toBe("node-null");
  });

  it("PHP SDK: attachRegistration($token, ['id' => …, 'handle' => null]) attaches", async () => {
    const sdk = phpSdk(listening.baseUrl, keys.sk);
    const response = await sdk.attachRegistration(await registrationToken(), { id: "php-null", handle: null });
    expect(response.status).toBe(200);
    expect(response.result).toEqual({ id: expect.stringMatching(/^ctl_/) });
  });

  it("null user fields are absent on find, options and process too", async () => {
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const auth = new SoftAuthenticator();
    await sdk.attachRegistration(await registrationToken(auth), { id: "null-everywhere", username: null });
    const found = await sdk.call("/credential/find", { user: { id: "null-everywhere", handle: null, username: null } });
    expect(found.status).toBe(200);
    expect(found.result.data).toHaveLength(1);
    const atn = await authToken(auth, { user: { id: "null-everywhere", username: null, handle: null } });
    expect((await sdk.verifyAuthToken(atn)).result.user.id).toBe("null-everywhere");
    const creation = await clientCall(h, keys.pk, "/attestation/options", { user: { id: "null-everywhere", handle: null, name: null } });
    expect(creation.status).toBe(200);
    expect(creation.body.result.publicKey.excludeCredentials).toHaveLength(1);
    // A required field stays required: null is not a user id.
    const noId = await sdk.attachRegistration(await registrationToken(), { id: null as unknown as string, username: "x" });
    expect({ status: noId.status, code: noId.errors[0]?.code }).toEqual({ status: 400, code: "InvalidInput" });
  });
});

describe("every answer carries errors, [] on success (item 3)", () => {
  it("client API: options and process of both ceremonies", async () => {
    const auth = new SoftAuthenticator();
    const regOpts = await clientCall(h, keys.pk, "/attestation/options", {});
    expect(regOpts.body.errors).toEqual([]);
    const credential = auth.register(regOpts.body.result.publicKey, { origin: ORIGIN });
    const processed = await clientCall(h, keys.pk, "/attestation/process", { credential });
    expect(processed.body.errors).toEqual([]);
    await nodeSdk(listening.baseUrl, keys.sk).attachRegistration(processed.body.result.token, { id: "errs", username: null });
    const authOpts = await clientCall(h, keys.pk, "/assertion/options", { user: { id: "errs" } });
    expect(authOpts.body.errors).toEqual([]);
    const assertion = auth.authenticate(authOpts.body.result.publicKey, { origin: ORIGIN });
    const signedIn = await clientCall(h, keys.pk, "/assertion/process", { credential: assertion, user: { id: "errs" } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.errors).toEqual([]);
  });

  it("server API: attach, create, verify, update, find (the Node README's `response.errors.length`)", async () => {
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const auth = new SoftAuthenticator();
    const attached = await sdk.call("/registration/attach", { token: await registrationToken(auth), user: { id: "errs-2" } });
    const created = await sdk.call("/credential/create", { token: await registrationToken(), user: { id: "errs-3" } });
    const verified = await sdk.verifyAuthToken(await authToken(auth, { user: { id: "errs-2" } }));
    const updated = await sdk.call("/credential/update", { credentialId: attached.result.id, active: false });
    const found = await sdk.call("/credential/find", { user: { id: "errs-2" } });
    for (const response of [attached, created, verified, updated, found]) {
      expect(response.ok).toBe(true);
      expect(response.errors.length).toBe(0);
    }
  });
});
