import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  AssertionOptionsRequest,
  AssertionProcessRequest,
  AttachRegistrationRequest,
  AttestationOptionsRequest,
  AttestationProcessRequest,
  FindCredentialsRequest,
  UpdateCredentialRequest,
  VerifyAuthTokenRequest,
} from "@authplane/contracts";
import type { CreatedOrganization } from "@authplane/admin-key/testing";
import { fuzzEndpoints, isWrappedErrorBody } from "@authplane/service-kit/testing";
import {
  basicPk,
  basicSk,
  clientCall,
  enroll,
  type Harness,
  ORIGIN,
  RP,
  registerPasskey,
  signIn,
  startHarness,
} from "./support/harness.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

// Issue 10 item 7: generated hostile input on every passkey API endpoint, concurrently with valid
// requests of another organization; item 8: no-store on tokens, no configuration in error messages.

let h: Harness;
let server: Server;
let base: string;
let victim: CreatedOrganization;
let target: CreatedOrganization;

beforeAll(async () => {
  h = await startHarness({
    env: {
      RATE_LIMIT_IP_PER_MINUTE: "1000000",
      RATE_LIMIT_SERVER_IP_PER_MINUTE: "1000000",
      RATE_LIMIT_KEY_PER_MINUTE: "1000000",
      RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "1000000",
    },
  });
  server = h.svc.app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  victim = await h.admin.createOrganization({ name: "Valid users", webauthn: RP });
  target = await h.admin.createOrganization({
    name: "Fuzzed",
    webauthn: { ...RP, origins: [ORIGIN, "https://secret-admin.example.com"] },
  });
});
afterAll(async () => {
  await new Promise<void>((r) => {
    server?.close(() => r());
    server?.closeAllConnections();
  });
  await h?.stop();
});

test("no generated bad input gets a 5xx; each is a 4xx {result: null, errors}; valid requests sent alongside all succeed", async () => {
  const keys = { pk: target.keys.publishable.live, sk: target.keys.secret.live };
  const auth = new SoftAuthenticator();
  const ctlId = await enroll(h, keys, auth, { id: "fuzz-user", handle: "fuzz" });
  const client = { authorization: basicPk(keys.pk), origin: ORIGIN };
  const srv = { authorization: basicSk(keys.sk) };
  const credential = {
    id: "AAAA",
    rawId: "AAAA",
    type: "public-key",
    response: { clientDataJSON: "AAAA", attestationObject: "AAAA", authenticatorData: "AAAA", signature: "AAAA" },
    clientExtensionResults: {},
  };
  const victimSk = { authorization: basicSk(victim.keys.secret.live), "content-type": "application/json" };
  const victimPk = { authorization: basicPk(victim.keys.publishable.live), origin: ORIGIN, "content-type": "application/json" };
  let turn = 0;
  const report = await fuzzEndpoints({
    baseUrl: base,
    runsPerTarget: 120,
    targets: [
      {
        name: "/attestation/options",
        method: "POST",
        path: "/attestation/options",
        headers: client,
        schema: AttestationOptionsRequest,
        body: { user: { id: "u1", username: "u1" } },
      },
      {
        name: "/attestation/process",
        method: "POST",
        path: "/attestation/process",
        headers: client,
        schema: AttestationProcessRequest,
        body: { credential },
      },
      {
        name: "/assertion/options",
        method: "POST",
        path: "/assertion/options",
        headers: client,
        schema: AssertionOptionsRequest,
        body: { user: { username: "fuzz" } },
      },
      {
        name: "/assertion/process",
        method: "POST",
        path: "/assertion/process",
        headers: client,
        schema: AssertionProcessRequest,
        body: { credential, user: { id: "fuzz-user" } },
      },
      {
        name: "/registration/attach",
        method: "POST",
        path: "/registration/attach",
        headers: srv,
        schema: AttachRegistrationRequest,
        body: { token: "rtn_x", user: { id: "u2" } },
      },
      {
        name: "/credential/create",
        method: "POST",
        path: "/credential/create",
        headers: srv,
        schema: AttachRegistrationRequest,
        body: { token: "rtn_x", user: { id: "u2" } },
      },
      {
        name: "/auth/verify",
        method: "POST",
        path: "/auth/verify",
        headers: srv,
        schema: VerifyAuthTokenRequest,
        body: { token: "atn_x" },
      },
      {
        name: "/credential/update",
        method: "POST",
        path: "/credential/update",
        headers: srv,
        schema: UpdateCredentialRequest,
        body: { credentialId: ctlId, active: true },
      },
      {
        name: "/credential/find",
        method: "POST",
        path: "/credential/find",
        headers: srv,
        schema: FindCredentialsRequest,
        body: { user: { id: "fuzz-user" } },
      },
    ],
    valid: async () => {
      const res =
        turn++ % 2
          ? await fetch(`${base}/credential/find`, {
              method: "POST",
              headers: victimSk,
              body: JSON.stringify({ user: { id: `v-${turn % 3}` } }),
            })
          : await fetch(`${base}/assertion/options`, {
              method: "POST",
              headers: victimPk,
              body: JSON.stringify({ user: { username: `v-${turn % 3}` } }),
            });
      if (res.status !== 200) throw new Error(`valid request answered ${res.status}: ${await res.text()}`);
    },
    isErrorBody: isWrappedErrorBody,
  });
  expect(report.hostile).toBe(9 * 120);
  expect(report.valid).toBe(9 * 120);
}, 120_000);

test("one-time tokens (rtn_/atn_) are never cached; a wrong origin's error names none of the allowed origins", async () => {
  const keys = { pk: target.keys.publishable.live, sk: target.keys.secret.live };
  const auth = new SoftAuthenticator();
  const registered = await registerPasskey(h, keys.pk, auth);
  expect(registered.status).toBe(200);
  expect(registered.headers["cache-control"]).toBe("no-store");
  expect(registered.headers.pragma).toBe("no-cache");
  await enroll(h, keys, auth, { id: "cache-user", handle: "cache" });
  const signedIn = await signIn(h, keys.pk, auth);
  expect(signedIn.status).toBe(200);
  expect(signedIn.headers["cache-control"]).toBe("no-store");

  // clientDataJSON from another origin (the request's Origin header is allowed, the ceremony's is not).
  const opts = await clientCall(h, keys.pk, "/attestation/options", { upgrade: false });
  const credential = new SoftAuthenticator().register(opts.body.result.publicKey, { origin: "https://evil.example" });
  const res = await clientCall(h, keys.pk, "/attestation/process", { credential });
  expect(res.status).toBe(400);
  expect(res.body.errors[0].code).toBe("MalformedAuthenticationData");
  expect(res.text).not.toContain("secret-admin.example.com");
  expect(res.text).not.toContain(ORIGIN);
});

test("the passkey API refuses NUL, lone surrogates and bad percent-encoding with its wrapped 400", async () => {
  const pk = { authorization: basicPk(victim.keys.publishable.live), origin: ORIGIN, "content-type": "application/json" };
  for (const body of ['{"user":{"username":"a\\u0000"}}', '{"user":{"id":"\\ud800"}}']) {
    const res = await fetch(`${base}/assertion/options`, { method: "POST", headers: pk, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { result: unknown; errors: Array<{ code: string }> }).errors[0]?.code).toBe("InvalidInput");
    // The SDK's page can read the refusal (CORS echo before the body is read).
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  }
  const res = await fetch(`${base}/credential/find?x=%ff`, {
    method: "POST",
    headers: { authorization: basicSk(victim.keys.secret.live), "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ result: null, errors: [{ code: "InvalidInput", message: expect.any(String) }] });
});
