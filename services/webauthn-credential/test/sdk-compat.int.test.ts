import { eventually } from "@authplane/service-kit/testing";
import supertest from "supertest";
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
    // Decoys, never the user's real passkey (issue 10 item 6).
    expect(creation.body.result.publicKey.excludeCredentials.length).toBeGreaterThanOrEqual(1);
    expect(creation.body.result.publicKey.excludeCredentials.map((c: { id: string }) => c.id)).not.toContain(
      [...auth.credentials.keys()][0],
    );
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

/** Registers a passkey and attaches it with the Node SDK; returns the SDK's response. */
async function attach(user: { id: string; username: string | null }, auth = new SoftAuthenticator()) {
  return nodeSdk(listening.baseUrl, keys.sk).attachRegistration(await registrationToken(auth), user);
}

const offered = async (body: unknown) =>
  ((await clientCall(h, keys.pk, "/assertion/options", body)).body.result.publicKey.allowCredentials as Array<{ id: string }>).map(
    (c) => c.id,
  );

describe("usernames: case-insensitive, kept only as a keyed hash (item 4)", () => {
  it("options, process, find and attach match whatever the case and Unicode form typed", async () => {
    const auth = new SoftAuthenticator();
    const attached = await attach({ id: "ada-id", username: "Ada.Lovelace@Example.com" }, auth);
    expect(attached.status).toBe(200);
    const [webauthnId] = [...auth.credentials.keys()];
    // Browser SDK: startAuth({ username }) with what the user typed.
    expect(await offered({ user: { username: "ada.lovelace@example.com" } })).toEqual([webauthnId]);
    expect(await offered({ user: { username: "  ADA.LOVELACE@EXAMPLE.COM " } })).toEqual([webauthnId]);
    // Full-width compatibility characters (NFKC).
    expect(await offered({ user: { username: "ＡＤＡ.lovelace@example.com" } })).toEqual([webauthnId]);
    const atn = await authToken(auth, { user: { username: "ADA.lovelace@EXAMPLE.com" } });
    const verified = await nodeSdk(listening.baseUrl, keys.sk).verifyAuthToken(atn);
    expect(verified.result.user).toEqual({ id: "ada-id" });
    const found = await nodeSdk(listening.baseUrl, keys.sk).call("/credential/find", { user: { handle: "ada.LOVELACE@example.COM" } });
    expect(found.result.data.map((c: { id: string }) => c.id)).toEqual([attached.result.id]);
    // Full case folding: "ß" and "SS".
    const strasse = new SoftAuthenticator();
    await attach({ id: "strasse-id", username: "Straße" }, strasse);
    expect(await offered({ user: { username: "STRASSE" } })).toEqual([...strasse.credentials.keys()]);
  });

  it("the username is in no table, no event and no answer; verify answers {user: {id}}", async () => {
    const username = "Grace.Hopper@Navy.example";
    const auth = new SoftAuthenticator();
    const created = await attach({ id: "grace-id", username }, auth);
    const atn = await authToken(auth, { user: { username } });
    const verified = await phpSdk(listening.baseUrl, keys.sk).verifyAuthToken(atn);
    expect(verified.result.user).toEqual({ id: "grace-id" });
    const found = await nodeSdk(listening.baseUrl, keys.sk).call("/credential/find", { user: { username } });
    await h.svc.deps.relay.flush();
    const answers = JSON.stringify([created, verified, found]).toLowerCase();
    expect(answers).not.toContain("grace.hopper");
    const { rows } = await h.svc.deps.pool.query<{ t: string }>(
      `SELECT row_to_json(x)::text AS t FROM (
         SELECT * FROM credentials c JOIN user_accounts a USING (organization_id, mode, user_id)) x
       UNION ALL SELECT payload::text FROM outbox_events`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.t.toLowerCase()).join("\n")).not.toContain("grace.hopper");
    const columns = await h.svc.deps.pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'credentials'`,
    );
    expect(columns.rows.map((c) => c.column_name)).not.toContain("user_handle");
    // What is stored is the keyed hash of the folded name.
    const account = await h.svc.deps.prisma.userAccount.findUniqueOrThrow({
      where: { organizationId_mode_userId: { organizationId: org.organization.id, mode: "test", userId: "grace-id" } },
    });
    expect(account.usernameHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("the decoy for an unknown username does not change with its case (no probing by case)", async () => {
    const ghost = await offered({ user: { username: "Ghost.User" } });
    expect(ghost.length).toBeGreaterThanOrEqual(1);
    expect(await offered({ user: { username: "ghost.user" } })).toEqual(ghost);
    expect(await offered({ user: { username: "GHOST.USER " } })).toEqual(ghost);
    expect(await offered({ user: { username: "ghost.user2" } })).not.toEqual(ghost);
  });
});

describe("username conflicts (item 5)", () => {
  it("a username of another user.id is UsernameInUseByDifferentAccount (409), token not spent, sign-in offers one user", async () => {
    const alice = new SoftAuthenticator();
    expect((await attach({ id: "conflict-alice", username: "shared-name" }, alice)).status).toBe(200);
    const bob = new SoftAuthenticator();
    const token = await registrationToken(bob);
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const refused = await sdk.attachRegistration(token, { id: "conflict-bob", username: "Shared-Name" });
    expect({ ok: refused.ok, status: refused.status, result: refused.result, codes: refused.errors.map((e) => e.code) }).toEqual({
      ok: false,
      status: 409,
      result: null,
      codes: ["UsernameInUseByDifferentAccount"],
    });
    // Sign-in by that username still offers Alice's passkey only.
    expect(await offered({ user: { username: "shared-name" } })).toEqual([...alice.credentials.keys()]);
    // The refused attach did not spend the token: the backend can attach it without the name.
    const retried = await sdk.attachRegistration(token, { id: "conflict-bob", username: null });
    expect(retried.status).toBe(200);
    expect(await offered({ user: { username: "shared-name" } })).toEqual([...alice.credentials.keys()]);
  });

  it("another username for an existing user.id is UsernameCannotChange (400); the same one in another case is fine", async () => {
    expect((await attach({ id: "fixed-user", username: "first-name" })).status).toBe(200);
    const changed = await attach({ id: "fixed-user", username: "second-name" });
    expect({ status: changed.status, codes: changed.errors.map((e) => e.code) }).toEqual({ status: 400, codes: ["UsernameCannotChange"] });
    expect((await attach({ id: "fixed-user", username: "FIRST-NAME" })).status).toBe(200);
    // No username at attach leaves the user's username as it was.
    expect((await attach({ id: "fixed-user", username: null })).status).toBe(200);
    const found = await nodeSdk(listening.baseUrl, keys.sk).call("/credential/find", { user: { username: "first-name" } });
    expect(found.result.data).toHaveLength(3);
    expect((await nodeSdk(listening.baseUrl, keys.sk).call("/credential/find", { user: { username: "second-name" } })).result.data).toEqual(
      [],
    );
    // A user attached without a username may be given one later.
    expect((await attach({ id: "late-name", username: null })).status).toBe(200);
    expect((await attach({ id: "late-name", username: "named-later" })).status).toBe(200);
    expect(await offered({ user: { username: "named-later" } })).toHaveLength(2);
  });

  it("racing attaches of one username for different users: exactly one wins, enforced by the database", async () => {
    const tokens = await Promise.all([1, 2, 3, 4].map(() => registrationToken()));
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const results = await Promise.all(tokens.map((t, i) => sdk.attachRegistration(t, { id: `racer-${i}`, username: "racer" })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200))
      expect({ status: r.status, code: r.errors[0]?.code }).toEqual({ status: 409, code: "UsernameInUseByDifferentAccount" });
    const owners = await h.svc.deps.prisma.userAccount.findMany({
      where: { organizationId: org.organization.id, mode: "test", userId: { startsWith: "racer-" }, usernameHash: { not: null } },
    });
    expect(owners).toHaveLength(1);
    // The unique index itself refuses a second owner of a hash.
    await expect(
      h.svc.deps.prisma.userAccount.create({
        data: { organizationId: org.organization.id, mode: "test", userId: "racer-x", usernameHash: owners[0]?.usernameHash },
      }),
    ).rejects.toThrow();
  });

  it("racing attaches giving one user different first usernames: one wins, the others UsernameCannotChange", async () => {
    expect((await attach({ id: "cas-user", username: null })).status).toBe(200);
    const tokens = await Promise.all([1, 2, 3].map(() => registrationToken()));
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const results = await Promise.all(tokens.map((t, i) => sdk.attachRegistration(t, { id: "cas-user", username: `cas-name-${i}` })));
    const won = results.findIndex((r) => r.status === 200);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200))
      expect({ status: r.status, code: r.errors[0]?.code }).toEqual({ status: 400, code: "UsernameCannotChange" });
    const found = await sdk.call("/credential/find", { user: { username: `cas-name-${won}` } });
    expect(found.result.data).toHaveLength(2);
  });

  it("two first passkeys of one new user attached at once both succeed", async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => registrationToken()));
    const sdk = nodeSdk(listening.baseUrl, keys.sk);
    const results = await Promise.all(tokens.map((t) => sdk.attachRegistration(t, { id: "twin-user", username: "twin" })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await sdk.call("/credential/find", { user: { username: "TWIN" } })).result.data).toHaveLength(3);
  });
});

describe("/auth/verify extras and requireUserVerification (item 8)", () => {
  it("verify adds the credential used (id, name, isBackedUp) and userVerified; the SDKs still read user.id", async () => {
    const synced = new SoftAuthenticator({ aaguid: "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", backupEligible: true, backedUp: true });
    const created = await attach({ id: "extras-user", username: null }, synced);
    const verified = await phpSdk(listening.baseUrl, keys.sk).verifyAuthToken(await authToken(synced, { user: { id: "extras-user" } }));
    expect(verified.result).toEqual({
      user: { id: "extras-user" },
      credential: { id: created.result.id, name: "Google Password Manager", isBackedUp: true },
      userVerified: true,
    });
    const noUv = new SoftAuthenticator({ userVerified: false });
    const key = await attach({ id: "no-uv-user", username: null }, noUv);
    const v2 = await nodeSdk(listening.baseUrl, keys.sk).verifyAuthToken(await authToken(noUv, { user: { id: "no-uv-user" } }));
    expect(v2.result).toEqual({
      user: { id: "no-uv-user" },
      credential: { id: key.result.id, name: "Passkey", isBackedUp: false },
      userVerified: false,
    });
  });

  it("with requireUserVerification on, options ask for it and a response without UV is refused", async () => {
    const strict = await h.admin.createOrganization({ name: "Strict", webauthn: RP });
    const sk = strict.keys.secret.test;
    const pk = strict.keys.publishable.test;
    const patched = await supertest(h.admin.app)
      .patch("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${sk}`)
      .send({ webauthn: { ...RP, requireUserVerification: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.settings.webauthn.requireUserVerification).toBe(true);
    // The key cache is dropped on organizations.v1.settings_updated.
    const regOpts = await eventually(async () => {
      const r = await clientCall(h, pk, "/attestation/options", {});
      if (r.body.result.publicKey.authenticatorSelection.userVerification !== "required") throw new Error("setting not seen yet");
      return r;
    });
    const noUv = new SoftAuthenticator({ userVerified: false });
    const refusedReg = await clientCall(h, pk, "/attestation/process", {
      credential: noUv.register(regOpts.body.result.publicKey, { origin: ORIGIN }),
    });
    expect({ status: refusedReg.status, code: refusedReg.body.errors[0]?.code }).toEqual({ status: 403, code: "PermissionViolation" });

    const uv = new SoftAuthenticator();
    const regOpts2 = await clientCall(h, pk, "/attestation/options", {});
    const processed = await clientCall(h, pk, "/attestation/process", {
      credential: uv.register(regOpts2.body.result.publicKey, { origin: ORIGIN }),
    });
    expect(processed.status).toBe(200);
    const sdk = nodeSdk(listening.baseUrl, sk);
    expect((await sdk.attachRegistration(processed.body.result.token, { id: "strict-user", username: null })).status).toBe(200);
    const authOpts = await clientCall(h, pk, "/assertion/options", { user: { id: "strict-user" } });
    expect(authOpts.body.result.publicKey.userVerification).toBe("required");
    const signedIn = await clientCall(h, pk, "/assertion/process", {
      credential: uv.authenticate(authOpts.body.result.publicKey, { origin: ORIGIN }),
    });
    expect(signedIn.status).toBe(200);
    expect((await sdk.verifyAuthToken(signedIn.body.result.token)).result.userVerified).toBe(true);

    // The same passkey answering without UV (e.g. presence only) is refused, and no token is issued.
    const lazy = new SoftAuthenticator({ userVerified: false });
    for (const [id, cred] of uv.credentials) lazy.credentials.set(id, cred);
    const authOpts2 = await clientCall(h, pk, "/assertion/options", { user: { id: "strict-user" } });
    const refused = await clientCall(h, pk, "/assertion/process", {
      credential: lazy.authenticate(authOpts2.body.result.publicKey, { origin: ORIGIN }),
    });
    expect({ status: refused.status, result: refused.body.result, code: refused.body.errors[0]?.code }).toEqual({
      status: 403,
      result: null,
      code: "PermissionViolation",
    });
  });
});
