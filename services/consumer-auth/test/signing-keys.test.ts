import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually } from "@authplane/service-kit/testing";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, SignJWT } from "jose";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { activePrivateKey, decodePart, startWorld, type World, request } from "./helpers.js";

// Issue 9 item 6, from the side of a downstream verifier (a rotated-in kid must never be unknown
// to a JWKS cache that honours max-age) and of an attacker holding a compromised signing key.
// A rotated-in key signs JWKS_MAX_AGE_SECONDS + SIGNING_KEY_REFRESH_SECONDS + margin = 2 + 1 + 1 s
// after its publication here.
const ENV = { JWKS_MAX_AGE_SECONDS: "2", SIGNING_KEY_REFRESH_SECONDS: "1", SIGNING_KEY_PUBLISH_MARGIN_SECONDS: "1" };
const serviceDir = fileURLToPath(new URL("..", import.meta.url));

let w: World;
let second: ConsumerAuthForTest;
let secondUrl: string;
beforeAll(async () => {
  w = await startWorld({ env: ENV });
  second = await startConsumerAuthForTest(w.iso, { env: ENV, listen: true });
  secondUrl = second.url ?? "";
});
afterAll(async () => {
  await second?.stop();
  await w?.stop();
});

/** The service's CLI as operators run it: a separate process (needs `tsc -b` first). */
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, ...w.iso.env("consumer-auth"), ...ENV };
  const r = spawnSync(process.execPath, ["dist/cli.js", ...args], { cwd: serviceDir, env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type App = Parameters<typeof request>[0];
const apps = (): App[] => [w.ca.app, secondUrl];
const kidOf = (token: string) => decodePart(token.split(".")[0]).kid as string;

async function guest(app: App = w.ca.app) {
  const res = await request(app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
  expect(res.status).toBe(200);
  return res.body as { accessToken: string; refreshToken: string };
}

async function jwksKids(app: App): Promise<string[]> {
  const res = await request(app).get("/.well-known/jwks.json");
  return (res.body as JSONWebKeySet).keys.map((k) => k.kid as string);
}

/** A downstream verifier caching the JWKS for exactly its Cache-Control max-age (then refetching). */
class CachingVerifier {
  private jwks: ReturnType<typeof createLocalJWKSet> | null = null;
  private until = 0;
  async verify(token: string): Promise<void> {
    if (!this.jwks || Date.now() >= this.until) {
      const fetchedAt = Date.now();
      const res = await request(w.ca.app).get("/.well-known/jwks.json");
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers["cache-control"] ?? "")?.[1]);
      expect(maxAge).toBe(2);
      this.jwks = createLocalJWKSet(res.body as JSONWebKeySet);
      this.until = fetchedAt + maxAge * 1000;
    }
    await jwtVerify(token, this.jwks, { algorithms: ["EdDSA"], issuer: w.ca.deps.env.TOKEN_ISSUER });
  }
}

test("a rotated-in key is in the JWKS first and signs only once every cache has seen it: a caching verifier never meets an unknown kid", async () => {
  const verifier = new CachingVerifier();
  const oldKid = kidOf((await guest()).accessToken);
  await verifier.verify((await guest()).accessToken); // the verifier's cache now holds the pre-rotation JWKS

  // Rotated on the first instance; the second learns it from the NATS announcement.
  const newKid = await w.ca.deps.tokens.rotate();
  const row = await w.ca.deps.prisma.signingKey.findUniqueOrThrow({ where: { id: newKid } });
  const delayMs = row.activatesAt.getTime() - row.createdAt.getTime();
  expect(delayMs).toBe((2 + 1 + 1) * 1000);

  // Published at once on both instances...
  expect(await jwksKids(w.ca.app)).toEqual(expect.arrayContaining([oldKid, newKid]));
  await eventually(async () => (await jwksKids(secondUrl)).includes(newKid), 3_000);
  // ...while every token keeps the old kid until the delay has passed, on both instances, and
  // every token verifies against what the verifier has cached.
  let sawNew = false;
  while (!sawNew) {
    for (const app of apps()) {
      const issuedAt = Date.now();
      const token = (await guest(app)).accessToken;
      const kid = kidOf(token);
      if (issuedAt < row.activatesAt.getTime() - 50) expect(kid).toBe(oldKid);
      if (kid === newKid) {
        expect(Date.now()).toBeGreaterThanOrEqual(row.activatesAt.getTime());
        sawNew = true;
      } else expect(kid).toBe(oldKid);
      await verifier.verify(token);
    }
    expect(Date.now()).toBeLessThan(row.activatesAt.getTime() + 5_000);
    await new Promise((r) => setTimeout(r, 150));
  }
  // Both instances sign with the new key now; tokens of the old one keep verifying.
  await eventually(async () => kidOf((await guest(secondUrl)).accessToken) === newKid, 3_000);
  for (const app of apps()) await verifier.verify((await guest(app)).accessToken);
}, 60_000);

test("withdrawing a compromised key with the CLI: gone from the JWKS, its tokens (cached ones too) refused on every instance", async () => {
  const stolen = await activePrivateKey(w.ca); // what an attacker who stole the key holds
  const victim = await guest();
  expect(kidOf(victim.accessToken)).toBe(stolen.kid);
  const forge = () =>
    new SignJWT({ consumerId: "guest_X", organizationId: w.orgA.organization.id, sessionId: "sess_X", mode: "live" })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: stolen.kid })
      .setSubject("guest_X")
      .setIssuer(w.ca.deps.env.TOKEN_ISSUER)
      .setAudience(`${w.orgA.organization.id}:live`)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(stolen.key);
  // Before: accepted everywhere (and now in both instances' verified-token caches).
  for (const app of apps()) {
    expect(
      (
        await request(app)
          .get("/api/v1/auth/check")
          .set("Authorization", `Bearer ${victim.accessToken}`)
          .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      ).status,
    ).toBe(200);
  }

  const out = cli("withdraw-signing-key", stolen.kid);
  expect(out.status).toBe(0);
  expect(out.stdout).toContain(`withdrawn: ${stolen.kid}`);
  const replacement = /now signing: (sig_\w+)/.exec(out.stdout)?.[1] ?? "";
  expect(replacement).toMatch(/^sig_/);
  expect(replacement).not.toBe(stolen.kid);

  // Every instance: the kid leaves the JWKS and /check + /introspect refuse its tokens (well
  // before the 1 s periodic reload would matter: the CLI announces the withdrawal over NATS).
  const refused = async (app: App) => {
    if ((await jwksKids(app)).includes(stolen.kid)) return false;
    const forged = await forge();
    for (const token of [victim.accessToken, forged]) {
      if (
        (
          await request(app)
            .get("/api/v1/auth/check")
            .set("Authorization", `Bearer ${token}`)
            .set("X-Publishable-Key", w.orgA.keys.publishable.live)
        ).status !== 401
      )
        return false;
      const i = await request(app)
        .post("/api/v1/auth/introspect")
        .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
        .send({ token });
      if (i.status !== 200 || i.body.active !== false) return false;
    }
    return true;
  };
  for (const app of apps()) await eventually(() => refused(app), 3_000);
  // It stays refused (no cache or reload brings it back), and the replacement signs at once.
  await new Promise((r) => setTimeout(r, 1_200));
  for (const app of apps()) {
    expect(await refused(app)).toBe(true);
    const fresh = await guest(app);
    expect(kidOf(fresh.accessToken)).toBe(replacement);
    expect(
      (
        await request(app)
          .get("/api/v1/auth/check")
          .set("Authorization", `Bearer ${fresh.accessToken}`)
          .set("X-Publishable-Key", w.orgA.keys.publishable.live)
      ).status,
    ).toBe(200);
    expect(await jwksKids(app)).toContain(replacement);
  }
  const list = cli("list-signing-keys").stdout;
  expect(list).toMatch(new RegExp(`${stolen.kid}\\s+created \\S+\\s+WITHDRAWN`));
  expect(list).toMatch(new RegExp(`${replacement}\\s+created \\S+\\s+SIGNING`));
  // Idempotent; an unknown kid is an error.
  expect(await w.ca.deps.tokens.withdraw(stolen.kid)).toEqual({ kid: stolen.kid, alreadyWithdrawn: true, replacementKid: null });
  const unknown = cli("withdraw-signing-key", "sig_01ARZ3NDEKTSV4RRFFQ69G5FAV");
  expect(unknown.status).toBe(1);
  expect(unknown.stderr).toContain("no such signing key");
}, 90_000);

test("withdrawing a rotated-in key before it signs: it never signs, and the current key keeps signing past its activation time", async () => {
  const current = w.ca.deps.tokens.activeKid ?? "";
  const pending = await w.ca.deps.tokens.rotate();
  expect(await jwksKids(w.ca.app)).toContain(pending);
  const result = await w.ca.deps.tokens.withdraw(pending);
  expect(result).toEqual({ kid: pending, alreadyWithdrawn: false, replacementKid: null });
  const row = await w.ca.deps.prisma.signingKey.findUniqueOrThrow({ where: { id: pending } });
  await eventually(async () => !(await jwksKids(secondUrl)).includes(pending), 3_000);
  expect(await jwksKids(w.ca.app)).not.toContain(pending);
  await new Promise((r) => setTimeout(r, Math.max(0, row.activatesAt.getTime() - Date.now()) + 1_200));
  for (const app of apps()) expect(kidOf((await guest(app)).accessToken)).toBe(current);
}, 60_000);

test("when no key may sign any more (every key withdrawn by hand in SQL), the instances create exactly one that signs at once", async () => {
  const before = w.ca.deps.tokens.activeKid;
  await w.ca.deps.prisma.signingKey.updateMany({ where: { withdrawnAt: null }, data: { withdrawnAt: new Date() } });
  // Both instances notice at their next periodic reload (1 s here) and agree on one new key that
  // signs at once (not after the publication delay: there is nothing else to sign with).
  await eventually(async () => {
    const kids = await Promise.all(
      apps().map(
        async (app) =>
          (await request(app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live)).body.accessToken,
      ),
    );
    return (
      kids.every((t) => typeof t === "string") &&
      new Set(kids.map((t) => kidOf(t as string))).size === 1 &&
      kidOf(kids[0] as string) !== before
    );
  }, 3_500); // less than a rotated-in key's 4 s publication delay: the new key signs at once
  expect(await w.ca.deps.prisma.signingKey.count({ where: { withdrawnAt: null } })).toBe(1);
  const kid = w.ca.deps.tokens.activeKid ?? "";
  for (const app of apps()) expect(await jwksKids(app)).toEqual([kid]);
}, 60_000);
