import type { OrgForTest } from "./support/admin.js";
import { ORIGIN, RP, assertionOptions, clientCall, enroll, type Harness, serverCall, startHarness } from "./support/harness.js";
import { SoftAuthenticator, type SoftCredential } from "./support/soft-authenticator.js";

/**
 * Issue 10 item 6, from the attacker's side: with only the publishable key (public by design),
 * users with passkeys, unknown users and users whose passkeys are all deactivated must look the
 * same in /assertion/options and /attestation/options, and /assertion/process must not tell an
 * unknown credential id from a deactivated one or another user's before a signature verified.
 */
let h: Harness;
let org: OrgForTest;
const keys = () => ({ pk: org.keys.publishable.test, sk: org.keys.secret.test });
type Offered = { id: string; type: string; transports?: string[] };

const bytes = (id: string) => Buffer.from(id, "base64url").length;
const sorted = (t: string[] | undefined) => [...(t ?? [])].sort();
/** What an observer can compare without knowing any secret: entry keys, count-independent shape. */
const shape = (list: Offered[]) =>
  list.map((c) => ({ keys: Object.keys(c).sort(), type: c.type, transportsSorted: c.transports?.join() === sorted(c.transports).join() }));

const alice = new SoftAuthenticator(); // one active passkey, transports reported out of browser order
const dora = new SoftAuthenticator(); // one passkey, deactivated
const bob = new SoftAuthenticator(); // another user's active passkey
let doraCredential: string;

beforeAll(async () => {
  h = await startHarness();
  org = await h.admin.createOrganization({ name: "Enum", webauthn: RP });
  await enroll(h, keys(), alice, { id: "alice-id", handle: "alice" });
  doraCredential = await enroll(h, keys(), dora, { id: "dora-id", handle: "dora" });
  expect((await serverCall(h, keys().sk, "/credential/update", { credentialId: doraCredential, active: false })).status).toBe(200);
  await enroll(h, keys(), bob, { id: "bob-id", handle: "bob" });
});
afterAll(async () => {
  await h?.stop();
});

async function creationOptions(body: unknown) {
  const r = await clientCall(h, keys().pk, "/attestation/options", body);
  expect(r.status).toBe(200);
  return r.body.result.publicKey;
}

describe("options do not tell users with passkeys from users without", () => {
  it("excludeCredentials never lists a user's real passkeys; every name gets a stable list of the same shape", async () => {
    const realIds = new Set([...alice.credentials.keys(), ...dora.credentials.keys(), ...bob.credentials.keys()]);
    for (const user of [{ username: "alice" }, { id: "alice-id" }, { username: "ghost" }, { id: "ghost-id" }, { username: "dora" }]) {
      const first = (await creationOptions({ user })).excludeCredentials as Offered[];
      const again = (await creationOptions({ user })).excludeCredentials as Offered[];
      expect(first.length).toBeGreaterThanOrEqual(1);
      for (const c of first) expect(realIds.has(c.id)).toBe(false);
      expect(again).toEqual(first); // stable: repeated probes learn nothing new
      expect(shape(first)).toEqual(first.map(() => ({ keys: ["id", "transports", "type"], type: "public-key", transportsSorted: true })));
      // Not the same list as the sign-in decoys: for a real user the two lists differ, so they must for anyone.
      const allow = (await assertionOptions(h, keys().pk, { user })).allowCredentials as Offered[];
      expect(first.map((c) => c.id)).not.toEqual(allow.map((c) => c.id));
    }
    // The same authenticator cannot be registered twice anyway: its credential id is refused at process.
  });

  it("allowCredentials: a user with a passkey, an unknown user and a user whose passkeys are deactivated look alike", async () => {
    const known = (await assertionOptions(h, keys().pk, { user: { username: "alice" } })).allowCredentials as Offered[];
    const unknown = (await assertionOptions(h, keys().pk, { user: { username: "ghost" } })).allowCredentials as Offered[];
    const deactivated = (await assertionOptions(h, keys().pk, { user: { username: "dora" } })).allowCredentials as Offered[];
    expect(known.map((c) => c.id)).toEqual([...alice.credentials.keys()]);
    // Real passkeys come out in the order browsers report transports (sorted), as decoys do.
    expect(known[0]?.transports).toEqual(["hybrid", "internal"]);
    for (const list of [unknown, deactivated]) {
      expect(shape(list)).toEqual(list.map(() => shape(known)[0]));
      for (const c of list) expect(c.id).not.toBe(doraCredential);
    }
    expect(await assertionOptions(h, keys().pk, { user: { username: "GHOST" } })).toMatchObject({ allowCredentials: unknown });
  });

  it("decoys are not all one 32-byte id: counts, id lengths and transports vary like real passkeys', stable per name", async () => {
    const counts = new Set<number>();
    const lengths = new Set<number>();
    const transports = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const list = (await assertionOptions(h, keys().pk, { user: { username: `probe-${i}` } })).allowCredentials as Offered[];
      counts.add(list.length);
      for (const c of list) {
        lengths.add(bytes(c.id));
        transports.add(JSON.stringify(c.transports));
        expect(c.transports).toEqual(sorted(c.transports));
        expect(c.transports).not.toEqual(["internal", "hybrid"]);
      }
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
    expect(lengths.size).toBeGreaterThanOrEqual(3);
    for (const n of lengths) expect([16, 20, 32, 64]).toContain(n);
    expect(transports.size).toBeGreaterThanOrEqual(2);
  });
});

describe("/assertion/process tells nothing about a credential id before its signature verified", () => {
  /** An attacker with the publishable key and their own key pair, naming `credentialId`. */
  async function forged(credentialId: string) {
    const mallory = new SoftAuthenticator();
    mallory.register(
      { challenge: "x", rp: { id: RP.rpId, name: "x" }, user: { id: "x", name: "x", displayName: "x" } },
      { origin: ORIGIN },
    );
    const publicKey = await assertionOptions(h, keys().pk, { user: { username: "alice" } });
    const own = mallory.authenticate(publicKey, { origin: ORIGIN, credentialId: [...mallory.credentials.keys()][0] });
    const credential = { ...own, id: credentialId, rawId: credentialId };
    const r = await clientCall(h, keys().pk, "/assertion/process", { credential });
    return { status: r.status, result: r.body.result, errors: r.body.errors };
  }

  it("unknown id, deactivated passkey, another user's passkey and the named user's own with a wrong signature: one answer", async () => {
    const unknown = await forged(Buffer.alloc(20, 7).toString("base64url"));
    const deactivated = await forged([...dora.credentials.keys()][0] as string);
    const anotherUsers = await forged([...bob.credentials.keys()][0] as string);
    const own = await forged([...alice.credentials.keys()][0] as string);
    expect(unknown).toEqual({
      status: 400,
      result: null,
      errors: [{ code: "AuthenticatingUserAccountNotFound", message: expect.any(String) }],
    });
    expect(deactivated).toEqual(unknown);
    expect(anotherUsers).toEqual(unknown);
    expect(own).toEqual(unknown);
  });

  it("/attestation/process does not tell whether a claimed credential id exists (attestation none proves nothing)", async () => {
    const answer = async (credentialId: string) => {
      const mallory = new SoftAuthenticator();
      mallory.register(
        { challenge: "x", rp: { id: RP.rpId, name: "x" }, user: { id: "x", name: "x", displayName: "x" } },
        { origin: ORIGIN },
      );
      // Re-register mallory's key pair under the id being probed.
      const own = mallory.credentials.values().next().value as SoftCredential;
      mallory.credentials.set(credentialId, { ...own, id: credentialId, rawId: Buffer.from(credentialId, "base64url") });
      const credential = mallory.register(await creationOptions({}), { origin: ORIGIN, credentialId });
      const r = await clientCall(h, keys().pk, "/attestation/process", { credential });
      return { status: r.status, keys: Object.keys(r.body.result ?? {}).sort(), errors: r.body.errors };
    };
    const existing = await answer([...alice.credentials.keys()][0] as string);
    expect(existing).toEqual({ status: 200, keys: ["expiresAt", "token"], errors: [] });
    expect(await answer(Buffer.alloc(20, 9).toString("base64url"))).toEqual(existing);
  });

  it("the holder of the passkey is still told the specific reason, after the signature verified", async () => {
    const publicKey = await assertionOptions(h, keys().pk, {});
    const credential = dora.authenticate(publicKey, { origin: ORIGIN });
    const r = await clientCall(h, keys().pk, "/assertion/process", { credential });
    expect({ status: r.status, code: r.body.errors[0].code }).toEqual({ status: 403, code: "UsingDeactivatedCredential" });
  });
});
