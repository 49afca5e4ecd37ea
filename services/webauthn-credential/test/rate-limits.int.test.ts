import { randomBytes } from "node:crypto";
import type { OrgForTest } from "./support/admin.js";
import { RP, basicSk, clientCall, expectWrappedError, type Harness, startHarness } from "./support/harness.js";

/**
 * Issue 10 items 1-3 on the passkey APIs, from the attacker's side, with small limits: the server
 * API is throttled per IP before the key lookup, IPv6 clients count per /64, and a few clients at
 * their own publishable-key budget do not exhaust the organization's passkey sign-ins.
 */
let h: Harness;
let org: OrgForTest;
let counter: { unsubscribe(): void };
/** Every keys.v1.verify request the service sent (the upstream lookups). */
const lookups: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: {
      RATE_LIMIT_IP_PER_MINUTE: "4",
      RATE_LIMIT_SERVER_IP_PER_MINUTE: "5",
      RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: "3",
      RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: "100",
      RATE_LIMIT_ADMIN_IP_PER_MINUTE: "3",
    },
  });
  org = await h.admin.createOrganization({ name: "Limits", webauthn: RP });
  counter = h.svc.deps.nats.nc.subscribe(h.iso.subjects.keysVerify, {
    callback: (_err, msg) => {
      lookups.push(msg.json<{ key: string }>().key);
    },
  });
  await h.svc.deps.nats.nc.flush();
}, 60_000);

afterAll(async () => {
  counter.unsubscribe();
  await h?.stop();
});

beforeEach(() => {
  lookups.length = 0;
});

const randomKey = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`;
const options = (pk: string, ip: string) => clientCall(h, pk, "/assertion/options", {}).set("X-Forwarded-For", ip);

it("server API: random secret keys past the per-IP limit get 429 before any key lookup", async () => {
  const find = (sk: string) =>
    h.http
      .post("/credential/find")
      .set("X-Forwarded-For", "203.0.113.20")
      .set("Authorization", basicSk(sk))
      .set("Content-Type", "application/json")
      .send({ user: { id: "nobody" } });
  const keys = [randomKey("sk_test_"), randomKey("sk_test_")];
  for (const sk of [...keys, ...keys, randomKey("secret_sk_test_")]) expectWrappedError(await find(sk), 400, "SecretKeyNotFound");
  await h.svc.deps.nats.nc.flush();
  // Two distinct unknown keys asked about twice each: remembered, one lookup each.
  expect(lookups.length).toBe(3);
  for (let i = 0; i < 4; i++) {
    const r = await find(randomKey("sk_test_"));
    expectWrappedError(r, 429, "TooManyRequests");
    expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
  }
  await h.svc.deps.nats.nc.flush();
  expect(lookups.length).toBe(3);
});

it("client API: a sweep across addresses of one IPv6 /64 hits the per-IP limit like one address", async () => {
  const statuses: number[] = [];
  for (let i = 1; i <= 6; i++) statuses.push((await options(randomKey("pk_test_"), `2001:db8:cc:1:${i}::${i * 3}`)).status);
  expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
  expect((await options(randomKey("pk_test_"), "2001:db8:cc:2::1")).status).toBe(400);
  expect((await options(randomKey("pk_test_"), "::ffff:198.51.100.30")).status).toBe(400);
});

it("client API: clients at their own (key, client) budget get 429; another client of the key still signs in", async () => {
  const pk = org.keys.publishable.test;
  for (const ip of ["192.0.2.11", "192.0.2.12", "192.0.2.13", "2001:db8:dd:1::1"]) {
    for (let i = 0; i < 3; i++) expect((await options(pk, ip)).status).toBe(200);
    expectWrappedError(await options(pk, ip), 429, "TooManyRequests");
  }
  const other = await options(pk, "192.0.2.99");
  expect(other.status).toBe(200);
  expect(other.body.result.publicKey.challenge).toEqual(expect.any(String));
});

it("Admin API: guesses of the operator token past the per-IP limit get 429 before the token is checked; the right token too", async () => {
  const list = (token: string, ip: string) =>
    h.http
      .get("/api/v1/credentials")
      .set("X-Forwarded-For", ip)
      .set("Authorization", `Bearer ${token}`)
      .set("X-Organization-Id", org.organization.id)
      .set("X-Mode", "test");
  for (let i = 0; i < 3; i++) expectWrappedError(await list(randomKey("guess-"), "203.0.113.40"), 401, "InvalidAuthorizationHeader");
  const limited = await list(h.svc.deps.env.OPERATOR_TOKEN, "203.0.113.40");
  expectWrappedError(limited, 429, "TooManyRequests");
  expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
  // Another client is not affected; the secret key's calls count against the same per-IP budget.
  expect((await list(h.svc.deps.env.OPERATOR_TOKEN, "203.0.113.41")).status).toBe(200);
  const bySecretKey = () =>
    h.http.get("/api/v1/stats/passkeys").set("X-Forwarded-For", "203.0.113.41").set("Authorization", basicSk(org.keys.secret.test));
  expect((await bySecretKey()).status).toBe(200);
  expect((await bySecretKey()).status).toBe(200);
  expectWrappedError(await bySecretKey(), 429, "TooManyRequests");
});
