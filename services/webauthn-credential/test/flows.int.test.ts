import { eventually } from "@authplane/service-kit/testing";
import type { OrgForTest } from "./support/admin.js";
import {
  ORIGIN,
  RP,
  assertionOptions,
  clientCall,
  enroll,
  expectWrappedError,
  type Harness,
  registerPasskey,
  serverCall,
  signIn,
  startHarness,
} from "./support/harness.js";
import { decoyCredentials } from "../src/decoys.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";

let h: Harness;
let org: OrgForTest;
let keys: { pk: string; sk: string };

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "Flows", webauthn: RP });
  keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
});
afterAll(async () => {
  await h?.stop();
});

describe("registration and sign-in", () => {
  it("register -> attach -> authenticate -> verify returns the user id", async () => {
    const auth = new SoftAuthenticator({ aaguid: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd", backupEligible: true, backedUp: true });
    const opts = await clientCall(h, keys.pk, "/attestation/options", { upgrade: false });
    expect(opts.status).toBe(200);
    expect(opts.body.errors ?? []).toEqual([]);
    const pubKey = opts.body.result.publicKey;
    expect(pubKey.rp).toEqual({ id: "example.com", name: "Example" });
    expect(pubKey.attestation).toBe("none");
    expect(pubKey.authenticatorSelection).toMatchObject({ residentKey: "preferred", userVerification: "preferred" });
    expect(pubKey.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pubKey.user.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(opts.headers["access-control-allow-origin"]).toBe(ORIGIN);

    const credential = auth.register(pubKey, { origin: ORIGIN });
    const processed = await clientCall(h, keys.pk, "/attestation/process", { credential });
    expect(processed.status).toBe(200);
    expect(processed.body.result.token).toMatch(/^rtn_/);
    const now = Math.floor(Date.now() / 1000);
    expect(processed.body.result.expiresAt).toBeGreaterThanOrEqual(now + 290);
    expect(processed.body.result.expiresAt).toBeLessThanOrEqual(now + 301);

    const created = await serverCall(h, keys.sk, "/credential/create", {
      token: processed.body.result.token,
      user: { id: "user-1", handle: "alice@example.com" },
    });
    expect(created.status).toBe(200);
    expect(created.body.result).toEqual({
      id: expect.stringMatching(/^ctl_[0-9A-Z]{26}$/),
      name: "iCloud Keychain",
      aaguid: "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
      isActive: true,
      isBackupEligible: true,
      isBackedUp: true,
      isUvInitialized: true,
      transports: ["internal", "hybrid"],
      createdAt: expect.any(Number),
    });
    expect(Math.abs(created.body.result.createdAt - now)).toBeLessThan(5);

    const signedIn = await signIn(h, keys.pk, auth, { user: { username: "alice@example.com" } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.result.token).toMatch(/^atn_/);
    const verified = await serverCall(h, keys.sk, "/auth/verify", { token: signedIn.body.result.token });
    expect(verified.status).toBe(200);
    // The seed's {user: {id}}, never the username; plus the credential used and UV (issue 8).
    expect(verified.body.result).toEqual({
      user: { id: "user-1" },
      credential: { id: created.body.result.id, name: "iCloud Keychain", isBackedUp: true },
      userVerified: true,
    });

    // Stored row and events.
    const row = await h.svc.deps.prisma.credential.findUniqueOrThrow({ where: { id: created.body.result.id } });
    expect(row.organizationId).toBe(org.organization.id);
    expect(row.mode).toBe("test");
    expect(row.lastUsedAt).not.toBeNull();
    await h.svc.deps.relay.flush();
    const published = await h.svc.deps.prisma.outboxEvent.findMany({ where: { publishedAt: { not: null } } });
    const types = published.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["credentials.v1.created", "passkeys.v1.authenticated"]));
  });

  it("attach answers {id} and username-first sign-in lists only the user's passkeys", async () => {
    const auth = new SoftAuthenticator({ counter: "increment" });
    const id = await enroll(h, keys, auth, { id: "user-2", handle: "bob" });
    expect(id).toMatch(/^ctl_/);
    const byUsername = await assertionOptions(h, keys.pk, { user: { username: "bob" } });
    expect(byUsername.rpId).toBe("example.com");
    expect(byUsername.allowCredentials.map((c: { id: string }) => c.id)).toEqual([...auth.credentials.keys()]);
    const byId = await assertionOptions(h, keys.pk, { user: { id: "user-2" } });
    expect(byId.allowCredentials).toHaveLength(1);
    const r = await signIn(h, keys.pk, auth, { user: { id: "user-2" } });
    expect(r.status).toBe(200);
    const v = await serverCall(h, keys.sk, "/auth/verify", { token: r.body.result.token });
    expect(v.body.result.user.id).toBe("user-2");
  });

  it("autofill: {} gives conditional mediation, empty allowCredentials, and a discoverable sign-in", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "user-3" });
    const opts = await clientCall(h, keys.pk, "/assertion/options", {});
    expect(opts.status).toBe(200);
    expect(opts.body.result.mediation).toBe("conditional");
    expect(opts.body.result.publicKey.allowCredentials ?? []).toEqual([]);
    const credential = auth.authenticate(opts.body.result.publicKey, { origin: ORIGIN });
    const r = await clientCall(h, keys.pk, "/assertion/process", { credential });
    expect(r.status).toBe(200);
    const v = await serverCall(h, keys.sk, "/auth/verify", { token: r.body.result.token });
    expect(v.body.result.user).toEqual({ id: "user-3" });
  });

  it("upgrade: true asks for conditional create", async () => {
    const r = await clientCall(h, keys.pk, "/attestation/options", { upgrade: true });
    expect(r.status).toBe(200);
    expect(r.body.result.mediation).toBe("conditional");
  });

  it("a user with no passkeys gets options that look like a user's with one (no username probing)", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "user-probe", handle: "has-one" });
    const known = await assertionOptions(h, keys.pk, { user: { username: "has-one" } });
    const unknown = await assertionOptions(h, keys.pk, { user: { username: "nobody" } });
    const again = await assertionOptions(h, keys.pk, { user: { username: "nobody" } });
    const other = await assertionOptions(h, keys.pk, { user: { username: "nobody-else" } });
    const byId = await assertionOptions(h, keys.pk, { user: { id: "no-such-id" } });
    // Same keys, entries of the same form; the decoys are stable per name, like a real user's ids.
    expect(Object.keys(unknown).sort()).toEqual(Object.keys(known).sort());
    expect(unknown.allowCredentials.length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(unknown.allowCredentials[0]).sort()).toEqual(Object.keys(known.allowCredentials[0]).sort());
    const decoy = unknown.allowCredentials.map((c: { id: string }) => c.id);
    expect(again.allowCredentials.map((c: { id: string }) => c.id)).toEqual(decoy);
    expect(other.allowCredentials.map((c: { id: string }) => c.id)).not.toEqual(decoy);
    expect(byId.allowCredentials.map((c: { id: string }) => c.id)).not.toEqual(decoy);
    expect(unknown.challenge).not.toBe(again.challenge);
    // Derived from organization + mode + name: the same name elsewhere gets other decoys.
    const secret = h.svc.deps.env.DECOY_CREDENTIAL_SECRET;
    const ids = (organizationId: string, mode: "test" | "live") =>
      decoyCredentials(secret, { organizationId, mode }, "assertion", "handle:nobody").map((c) => c.id);
    expect(ids(org.organization.id, "test")).toEqual(decoy);
    expect(ids(org.organization.id, "live")).not.toEqual(decoy);
    expect(ids("org_other", "test")).not.toEqual(decoy);
  });

  it("does not list the named user's passkeys at registration (publishable key only: decoys), and refuses registering one twice", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "user-ex", handle: "ex" });
    const r = await clientCall(h, keys.pk, "/attestation/options", { user: { username: "ex" } });
    const excluded = r.body.result.publicKey.excludeCredentials.map((c: { id: string }) => c.id);
    expect(excluded.length).toBeGreaterThanOrEqual(1);
    for (const id of auth.credentials.keys()) expect(excluded).not.toContain(id);
    // The browser is no longer told to skip that authenticator; the backend's attach refuses the duplicate.
    const credential = auth.register(r.body.result.publicKey, { origin: ORIGIN, credentialId: [...auth.credentials.keys()][0] });
    const processed = await clientCall(h, keys.pk, "/attestation/process", { credential });
    expect(processed.status).toBe(200);
    const attach = await serverCall(h, keys.sk, "/registration/attach", { token: processed.body.result.token, user: { id: "user-ex" } });
    expectWrappedError(attach, 409, "InvalidInput");
  });
});

describe("one-time tokens and challenges", () => {
  it("an rtn_ token attaches once; replay is TokenExpired; a never-issued one is TokenNotFound", async () => {
    const auth = new SoftAuthenticator();
    const p = await registerPasskey(h, keys.pk, auth);
    const token = p.body.result.token;
    const first = await serverCall(h, keys.sk, "/registration/attach", { token, user: { id: "u-replay" } });
    expect(first.status).toBe(200);
    const again = await serverCall(h, keys.sk, "/registration/attach", { token, user: { id: "u-other" } });
    expectWrappedError(again, 400, "TokenExpired");
    const unknown = await serverCall(h, keys.sk, "/registration/attach", { token: "rtn_doesnotexist", user: { id: "x" } });
    expectWrappedError(unknown, 400, "TokenNotFound");
  });

  it("concurrent attaches of one rtn_ token: exactly one wins", async () => {
    const auth = new SoftAuthenticator();
    const p = await registerPasskey(h, keys.pk, auth);
    const token = p.body.result.token;
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => serverCall(h, keys.sk, "/registration/attach", { token, user: { id: `race-${i}` } })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectWrappedError(r, 400, "TokenExpired");
  });

  it("an atn_ token verifies once; replay is TokenExpired", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "u-atn" });
    const r = await signIn(h, keys.pk, auth);
    const token = r.body.result.token;
    expect((await serverCall(h, keys.sk, "/auth/verify", { token })).status).toBe(200);
    expectWrappedError(await serverCall(h, keys.sk, "/auth/verify", { token }), 400, "TokenExpired");
    // An rtn_ token is not an atn_ token.
    expectWrappedError(await serverCall(h, keys.sk, "/auth/verify", { token: "rtn_abc" }), 400, "InvalidInput");
  });

  it("a registration challenge is single use", async () => {
    const auth = new SoftAuthenticator();
    const opts = await clientCall(h, keys.pk, "/attestation/options", {});
    const credential = auth.register(opts.body.result.publicKey, { origin: ORIGIN });
    expect((await clientCall(h, keys.pk, "/attestation/process", { credential })).status).toBe(200);
    const replay = await clientCall(h, keys.pk, "/attestation/process", { credential });
    expectWrappedError(replay, 400, "TokenExpired");
  });

  it("an authentication challenge is single use (replayed assertion refused)", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "u-chal" });
    const publicKey = await assertionOptions(h, keys.pk, {});
    const credential = auth.authenticate(publicKey, { origin: ORIGIN });
    expect((await clientCall(h, keys.pk, "/assertion/process", { credential })).status).toBe(200);
    expectWrappedError(await clientCall(h, keys.pk, "/assertion/process", { credential }), 400, "TokenExpired");
  });

  it("a challenge made up by the client is refused", async () => {
    const auth = new SoftAuthenticator();
    const opts = await clientCall(h, keys.pk, "/attestation/options", {});
    const credential = auth.register(opts.body.result.publicKey, { origin: ORIGIN, challenge: "A".repeat(43) });
    expectWrappedError(await clientCall(h, keys.pk, "/attestation/process", { credential }), 400, "TokenExpired");
  });

  it("a registration challenge cannot be used for sign-in", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "u-cer" });
    const regOpts = await clientCall(h, keys.pk, "/attestation/options", {});
    const credential = auth.authenticate({ challenge: regOpts.body.result.publicKey.challenge, rpId: "example.com" }, { origin: ORIGIN });
    expectWrappedError(await clientCall(h, keys.pk, "/assertion/process", { credential }), 400, "TokenExpired");
  });
});

describe("relying party checks", () => {
  it("refuses a registration signed for another origin", async () => {
    const auth = new SoftAuthenticator();
    // The HTTP request comes from the org's origin; only the signed clientData names another.
    const opts = await clientCall(h, keys.pk, "/attestation/options", {});
    const credential = auth.register(opts.body.result.publicKey, { origin: "https://evil.example" });
    expectWrappedError(await clientCall(h, keys.pk, "/attestation/process", { credential }), 400, "MalformedAuthenticationData");
  });

  it("refuses a registration for another rpId", async () => {
    const auth = new SoftAuthenticator();
    const opts = await clientCall(h, keys.pk, "/attestation/options", {});
    const credential = auth.register(opts.body.result.publicKey, { origin: ORIGIN, rpId: "evil.example" });
    expectWrappedError(await clientCall(h, keys.pk, "/attestation/process", { credential }), 400, "MalformedAuthenticationData");
  });

  it("refuses an assertion with the wrong origin or the wrong rpId", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "u-rp" });
    let publicKey = await assertionOptions(h, keys.pk, {});
    let credential = auth.authenticate(publicKey, { origin: "https://evil.example" });
    expectWrappedError(await clientCall(h, keys.pk, "/assertion/process", { credential }), 400, "MalformedAuthenticationData");
    publicKey = await assertionOptions(h, keys.pk, {});
    credential = auth.authenticate(publicKey, { origin: ORIGIN, rpId: "evil.example" });
    expectWrappedError(await clientCall(h, keys.pk, "/assertion/process", { credential }), 400, "MalformedAuthenticationData");
  });

  it("refuses a forged signature", async () => {
    const auth = new SoftAuthenticator();
    await enroll(h, keys, auth, { id: "u-forge" });
    const other = new SoftAuthenticator();
    const publicKey = await assertionOptions(h, keys.pk, {});
    other.register(
      { challenge: "x", rp: { id: "example.com", name: "x" }, user: { id: "x", name: "x", displayName: "x" } },
      { origin: ORIGIN },
    );
    const genuine = auth.authenticate(publicKey, { origin: ORIGIN });
    const forged = other.authenticate(publicKey, { origin: ORIGIN });
    const credential = { ...genuine, response: { ...genuine.response, signature: forged.response.signature } };
    // The same answer as an unknown passkey: nothing about this credential before its signature verified.
    expectWrappedError(await clientCall(h, keys.pk, "/assertion/process", { credential }), 400, "AuthenticatingUserAccountNotFound");
  });
});

describe("credentials", () => {
  it("a passkey never attached cannot sign in (AuthenticatingUserAccountNotFound)", async () => {
    const auth = new SoftAuthenticator();
    const p = await registerPasskey(h, keys.pk, auth);
    expect(p.status).toBe(200);
    const r = await signIn(h, keys.pk, auth);
    expectWrappedError(r, 400, "AuthenticatingUserAccountNotFound");
  });

  it("deactivate -> sign-in refused; reactivate -> works; events published", async () => {
    const auth = new SoftAuthenticator();
    const id = await enroll(h, keys, auth, { id: "u-deact" });
    const off = await serverCall(h, keys.sk, "/credential/update", { credentialId: id, active: false });
    expect(off.status).toBe(200);
    expect(off.body.result).toMatchObject({ id, isActive: false });
    expectWrappedError(await signIn(h, keys.pk, auth), 403, "UsingDeactivatedCredential");
    // Deactivated passkeys are not offered for username-first sign-in either (a decoy is).
    const offered = (await assertionOptions(h, keys.pk, { user: { id: "u-deact" } })).allowCredentials as Array<{ id: string }>;
    expect(offered.length).toBeGreaterThanOrEqual(1);
    expect(offered.map((c) => c.id)).not.toContain(id);
    const on = await serverCall(h, keys.sk, "/credential/update", { credentialId: id, active: true });
    expect(on.body.result.isActive).toBe(true);
    expect((await signIn(h, keys.pk, auth)).status).toBe(200);
    await h.svc.deps.relay.flush();
    const evs = await h.svc.deps.prisma.outboxEvent.findMany({ orderBy: { createdAt: "asc" } });
    const mine = evs.filter((e) => (e.payload as { data: { credential?: { id: string } } }).data.credential?.id === id).map((e) => e.type);
    expect(mine).toEqual(["credentials.v1.created", "credentials.v1.updated", "credentials.v1.deactivated", "credentials.v1.updated"]);
    const ev = evs.find((e) => e.type === "credentials.v1.deactivated");
    expect(ev?.payload).toMatchObject({ organizationId: org.organization.id, mode: "test", data: { user: { id: "u-deact" } } });
  });

  it("the same passkey cannot be registered twice (409 at attach, never told to the publishable key)", async () => {
    const auth = new SoftAuthenticator();
    const first = await registerPasskey(h, keys.pk, auth);
    const credentialId = [...auth.credentials.keys()][0];
    const opts = await clientCall(h, keys.pk, "/attestation/options", {});
    const again = auth.register(opts.body.result.publicKey, { origin: ORIGIN, credentialId });
    const second = await clientCall(h, keys.pk, "/attestation/process", { credential: again });
    expect(second.status).toBe(200); // not attached yet: both tokens are valid so far
    expect((await serverCall(h, keys.sk, "/registration/attach", { token: first.body.result.token, user: { id: "dup" } })).status).toBe(
      200,
    );
    const dup = await serverCall(h, keys.sk, "/registration/attach", { token: second.body.result.token, user: { id: "dup2" } });
    expectWrappedError(dup, 409, "InvalidInput");
    const opts3 = await clientCall(h, keys.pk, "/attestation/options", {});
    const third = auth.register(opts3.body.result.publicKey, { origin: ORIGIN, credentialId });
    // Process does not say the id exists (anyone can claim any id with attestation "none"); attach does.
    const processed = await clientCall(h, keys.pk, "/attestation/process", { credential: third });
    expect(processed.status).toBe(200);
    const attach = await serverCall(h, keys.sk, "/registration/attach", { token: processed.body.result.token, user: { id: "dup3" } });
    expectWrappedError(attach, 409, "InvalidInput");
  });

  it("update of an unknown credential is EntityNotFound", async () => {
    const r = await serverCall(h, keys.sk, "/credential/update", { credentialId: "ctl_01HZZZZZZZZZZZZZZZZZZZZZZZ", active: false });
    expectWrappedError(r, 404, "EntityNotFound");
  });

  it("find by id, by handle, by the username alias; both is InvalidInput", async () => {
    const a = new SoftAuthenticator();
    const b = new SoftAuthenticator({ aaguid: "cb69481e-8ff7-4039-93ec-0a2729a154a8", transports: ["usb", "nfc"] });
    const id1 = await enroll(h, keys, a, { id: "u-find", handle: "carol" });
    const id2 = await enroll(h, keys, b, { id: "u-find", username: "carol" } as { id: string; handle?: string });
    const byId = await serverCall(h, keys.sk, "/credential/find", { user: { id: "u-find" } });
    expect(byId.status).toBe(200);
    expect(byId.body.result.data.map((c: { id: string }) => c.id)).toEqual([id1, id2]);
    expect(byId.body.result.data[0].name).toBe("Passkey");
    expect(byId.body.result.data[1]).toMatchObject({ name: "YubiKey 5 Series", transports: ["usb", "nfc"] });
    const byHandle = await serverCall(h, keys.sk, "/credential/find", { user: { handle: "carol" } });
    expect(byHandle.body.result.data).toHaveLength(2);
    const byUsername = await serverCall(h, keys.sk, "/credential/find", { user: { username: "carol" } });
    expect(byUsername.body.result.data).toHaveLength(2);
    expectWrappedError(await serverCall(h, keys.sk, "/credential/find", { user: { id: "u-find", handle: "carol" } }), 400, "InvalidInput");
    expectWrappedError(await serverCall(h, keys.sk, "/credential/find", { user: {} }), 400, "InvalidInput");
    const none = await serverCall(h, keys.sk, "/credential/find", { user: { id: "nobody" } });
    expect(none.body.result).toEqual({ data: [] });
  });

  it("signature counters: increasing ok, backwards refused and recorded, 0 stays ok", async () => {
    const key = new SoftAuthenticator({ counter: "increment" });
    const id = await enroll(h, keys, key, { id: "u-ctr" });
    expect((await signIn(h, keys.pk, key, { counter: 5 })).status).toBe(200);
    expect((await signIn(h, keys.pk, key, { counter: 6 })).status).toBe(200);
    const back = await signIn(h, keys.pk, key, { counter: 3 });
    expectWrappedError(back, 403, "PermissionViolation");
    const same = await signIn(h, keys.pk, key, { counter: 6 });
    expectWrappedError(same, 403, "PermissionViolation");
    const anomalies = await h.svc.deps.prisma.counterAnomaly.findMany({ where: { credentialId: id }, orderBy: { createdAt: "asc" } });
    expect(anomalies.map((a) => [Number(a.storedCount), Number(a.receivedCount)])).toEqual([
      [6, 3],
      [6, 6],
    ]);
    expect((await signIn(h, keys.pk, key, { counter: 7 })).status).toBe(200);

    const synced = new SoftAuthenticator({ counter: "zero", backupEligible: true, backedUp: true });
    await enroll(h, keys, synced, { id: "u-zero" });
    for (let i = 0; i < 3; i++) expect((await signIn(h, keys.pk, synced)).status).toBe(200);
  });

  it("publishes credential and sign-in events to JetStream with the envelope and data", async () => {
    const auth = new SoftAuthenticator();
    const id = await enroll(h, keys, auth, { id: "u-js", handle: "js" });
    expect((await signIn(h, keys.pk, auth)).status).toBe(200);
    await h.svc.deps.relay.flush();
    const { jsm } = h.svc.deps.nats;
    const last = async (type: string) => {
      const m = await jsm.streams.getMessage(h.iso.subjects.eventsStream, { last_by_subj: h.iso.subjects.event(type) });
      return m ? (JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>) : null;
    };
    const created = await eventually(() => last("credentials.v1.created"));
    expect(created).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      type: "credentials.v1.created",
      version: 1,
      organizationId: org.organization.id,
      mode: "test",
      data: { credential: { id, isActive: true }, user: { id: "u-js" } },
    });
    expect((created as { data: { user: unknown } }).data.user).toEqual({ id: "u-js" }); // never the username
    const authenticated = await eventually(() => last("passkeys.v1.authenticated"));
    expect(authenticated).toMatchObject({
      type: "passkeys.v1.authenticated",
      organizationId: org.organization.id,
      mode: "test",
      data: { credentialId: id, user: { id: "u-js" }, userVerified: true },
    });
    expect((authenticated as { data: { user: unknown } }).data.user).toEqual({ id: "u-js" });
  });
});
