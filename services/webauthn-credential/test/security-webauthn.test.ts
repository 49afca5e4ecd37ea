import type { OrgForTest } from "./support/admin.js";
import {
  RP,
  assertionOptions,
  basicPk,
  clientCall,
  enroll,
  expectWrappedError,
  type Harness,
  serverCall,
  startHarness,
} from "./support/harness.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

/** Attacker-side checks of the passkey APIs (security review). */
let h: Harness;
let org: OrgForTest;
const keys = () => ({ pk: org.keys.publishable.test, sk: org.keys.secret.test });

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "Sec", webauthn: RP });
});
afterAll(async () => {
  await h?.stop();
});

describe("a username-first ceremony is bound to the named user", () => {
  it("options for a user WITHOUT passkeys (a decoy credential) cannot be completed with another user's passkey", async () => {
    const mallory = new SoftAuthenticator();
    await enroll(h, keys(), mallory, { id: "mallory-id", handle: "mallory" });
    for (const user of [{ username: "victim" }, { id: "victim-id" }]) {
      const publicKey = await assertionOptions(h, keys().pk, { user });
      expect(publicKey.allowCredentials.length).toBeGreaterThanOrEqual(1);
      for (const c of publicKey.allowCredentials) expect(mallory.credentials.has(c.id)).toBe(false);
      // The attacker answers with a discoverable passkey of their own and omits `user` at process.
      const credential = mallory.authenticate(publicKey, { origin: "https://app.example.com" });
      const r = await clientCall(h, keys().pk, "/assertion/process", { credential });
      expectWrappedError(r, 403, "PermissionViolation");
    }
    // Control: the same passkey still signs in through autofill (no user named) and by its own name.
    for (const body of [{}, { user: { username: "mallory" } }]) {
      const publicKey = await assertionOptions(h, keys().pk, body);
      const credential = mallory.authenticate(publicKey, { origin: "https://app.example.com" });
      const ok = await clientCall(h, keys().pk, "/assertion/process", { credential });
      expect(ok.status).toBe(200);
      const v = await serverCall(h, keys().sk, "/auth/verify", { token: ok.body.result.token });
      expect(v.body.result.user.id).toBe("mallory-id");
    }
  });
});

describe("tokens and Basic auth", () => {
  it("an atn_ token cannot be attached as a registration token, nor an rtn_ verified as a sign-in", async () => {
    const alice = new SoftAuthenticator();
    await enroll(h, keys(), alice, { id: "alice-id", handle: "alice" });
    const publicKey = await assertionOptions(h, keys().pk, { user: { username: "alice" } });
    const credential = alice.authenticate(publicKey, { origin: "https://app.example.com" });
    const atn = (await clientCall(h, keys().pk, "/assertion/process", { credential })).body.result.token as string;
    expect(atn.startsWith("atn_")).toBe(true);
    const attach = await serverCall(h, keys().sk, "/registration/attach", { token: atn, user: { id: "mallory-id" } });
    expect(attach.status).toBeGreaterThanOrEqual(400);
    // The atn_ was not spent by the failed attempt: it still verifies, once, to alice.
    const v = await serverCall(h, keys().sk, "/auth/verify", { token: atn });
    expect(v.body.result.user.id).toBe("alice-id");
    expectWrappedError(await serverCall(h, keys().sk, "/auth/verify", { token: atn }), 400, "TokenExpired");
  });

  it("the server API never accepts a publishable key, whichever Basic slot it is in, nor one dressed as secret_pk_…", async () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    for (const header of [
      basicPk(keys().pk),
      `Basic ${b64(`:${keys().pk}`)}`,
      `Basic ${b64(`:secret_${keys().pk}`)}`,
      `Basic ${b64(`secret_${keys().pk}:`)}`,
    ]) {
      const r = await h.http
        .post("/credential/find")
        .set("Authorization", header)
        .send({ user: { id: "alice-id" } });
      expectWrappedError(r, 400, "InvalidAuthorizationHeader");
      expect(r.body.result).toBeNull();
    }
  });
});
