// The verified-token cache (TOKEN_CACHE_*): repeat checks skip the signature work, but never at
// the expense of revocation, expiry or integrity. Asserted from the client's side (status codes)
// plus the cache size where "was it cached at all" is the point.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { SignJWT } from "jose";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { activePrivateKey, b64url, decodePart, publishableKeyFor, startWorld, type World, request } from "./helpers.js";

let w: World;
/** A second instance on the same Postgres/Redis/NATS (another pod). */
let second: ConsumerAuthForTest;
/** An instance whose cache holds at most two tokens. */
let tiny: ConsumerAuthForTest;
beforeAll(async () => {
  // A long cache TTL, so only the token's own exp can bound an entry.
  w = await startWorld({ env: { TOKEN_CACHE_TTL_SECONDS: "86400" } });
  second = await startConsumerAuthForTest(w.iso, { env: { TOKEN_CACHE_TTL_SECONDS: "86400" } });
  tiny = await startConsumerAuthForTest(w.iso, { env: { TOKEN_CACHE_MAX_ENTRIES: "2" } });
});
afterAll(async () => {
  await tiny?.stop();
  await second?.stop();
  await w?.stop();
});

async function guestToken(): Promise<string> {
  const res = await request(w.ca.app).post("/api/v1/auth/guest").set("X-Publishable-Key", w.orgA.keys.publishable.live);
  expect(res.status).toBe(200);
  return res.body.accessToken as string;
}

function check(token: string, ca: ConsumerAuthForTest = w.ca) {
  return request(ca.app)
    .get("/api/v1/auth/check")
    .set("Authorization", `Bearer ${token}`)
    .set("X-Publishable-Key", publishableKeyFor(w, token));
}

/** A token signed with the service's real active key (what the service itself would issue). */
async function signedToken(claims: { exp: number; iat: number }, sessionId: string, consumerId: string): Promise<string> {
  const { kid, key } = await activePrivateKey(w.ca);
  return new SignJWT({ consumerId, organizationId: w.orgA.organization.id, sessionId, mode: "live" })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid })
    .setSubject(consumerId)
    .setIssuer(w.ca.deps.env.TOKEN_ISSUER)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(key);
}

describe("verified-token cache", () => {
  test("a repeat check is served from the cache with the same answer", async () => {
    const token = await guestToken();
    const before = w.ca.deps.tokens.cachedTokenCount;
    const first = await check(token);
    expect(first.status).toBe(200);
    expect(w.ca.deps.tokens.cachedTokenCount).toBe(before + 1);
    const again = await check(token);
    expect(again.status).toBe(200);
    expect(w.ca.deps.tokens.cachedTokenCount).toBe(before + 1);
    for (const h of ["x-consumer-id", "x-organization-id", "x-session-id", "x-mode"]) expect(again.headers[h]).toBe(first.headers[h]);
  });

  test("logout is refused at once on every instance even though the token is cached there", async () => {
    const token = await guestToken();
    for (const ca of [w.ca, second]) {
      expect((await check(token, ca)).status).toBe(200);
      expect((await check(token, ca)).status).toBe(200); // now certainly cached on both
    }
    const lo = await request(second.app).post("/api/v1/auth/logout").set("Authorization", `Bearer ${token}`);
    expect(lo.status).toBe(204);
    expect((await check(token, w.ca)).status).toBe(401);
    expect((await check(token, second)).status).toBe(401);
    const intro = await request(w.ca.app)
      .post("/api/v1/auth/introspect")
      .set("Authorization", `Bearer ${w.orgA.keys.secret.live}`)
      .send({ token });
    expect(intro.status).toBe(200);
    expect(intro.body).toEqual({ active: false });
  });

  test("a tampered token never matches a cached one", async () => {
    const token = await guestToken();
    expect((await check(token)).status).toBe(200);
    const cached = w.ca.deps.tokens.cachedTokenCount;
    const [h, p, s] = token.split(".");
    const claims = decodePart(p);
    const forgedPayload = `${h}.${b64url({ ...claims, organizationId: w.orgB.organization.id })}.${s}`;
    // A character in the middle of the signature (the last one partly encodes padding bits).
    const sig = s ?? "";
    const mid = Math.floor(sig.length / 2);
    const forgedSignature = `${h}.${p}.${sig.slice(0, mid)}${sig[mid] === "A" ? "B" : "A"}${sig.slice(mid + 1)}`;
    const noSignature = `${h}.${p}.`;
    for (const bad of [forgedPayload, forgedSignature, noSignature, `${token}x`]) {
      expect((await check(bad)).status).toBe(401);
    }
    expect(w.ca.deps.tokens.cachedTokenCount).toBe(cached);
    // The genuine token is still fine.
    expect((await check(token)).status).toBe(200);
  });

  test("a token inside the clock tolerance after exp verifies but is not cached", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sessionToken = await guestToken();
    const { sessionId, consumerId } = decodePart(sessionToken.split(".")[1]) as { sessionId: string; consumerId: string };
    const token = await signedToken({ iat: now - 60, exp: now - 2 }, sessionId, consumerId);
    const before = w.ca.deps.tokens.cachedTokenCount;
    expect((await check(token)).status).toBe(200); // 5 s clock tolerance
    expect(w.ca.deps.tokens.cachedTokenCount).toBe(before);
  });

  test("a cached token is refused once its exp has passed (cache TTL far longer than the token)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sessionToken = await guestToken();
    const { sessionId, consumerId } = decodePart(sessionToken.split(".")[1]) as { sessionId: string; consumerId: string };
    const token = await signedToken({ iat: now, exp: now + 30 }, sessionId, consumerId);
    expect((await check(token)).status).toBe(200);
    expect((await check(token)).status).toBe(200); // cached
    // Only the clock moves (timers, sockets and promises stay real): 31 s + the 5 s tolerance later.
    jest.useFakeTimers({
      now: (now + 40) * 1000,
      doNotFake: [
        "hrtime",
        "nextTick",
        "performance",
        "queueMicrotask",
        "requestAnimationFrame",
        "cancelAnimationFrame",
        "requestIdleCallback",
        "cancelIdleCallback",
        "setImmediate",
        "clearImmediate",
        "setInterval",
        "clearInterval",
        "setTimeout",
        "clearTimeout",
      ],
    });
    try {
      expect((await check(token)).status).toBe(401);
    } finally {
      jest.useRealTimers();
    }
  });

  test("the cache is bounded: least recently used tokens are evicted and simply verified again", async () => {
    const tokens = [await guestToken(), await guestToken(), await guestToken()];
    for (const t of tokens) expect((await check(t, tiny)).status).toBe(200);
    expect(tiny.deps.tokens.cachedTokenCount).toBe(2);
    for (const t of tokens) expect((await check(t, tiny)).status).toBe(200);
    expect(tiny.deps.tokens.cachedTokenCount).toBe(2);
  });

  test("TOKEN_CACHE_MAX_ENTRIES=0 disables the cache", async () => {
    const off = await startConsumerAuthForTest(w.iso, { env: { TOKEN_CACHE_MAX_ENTRIES: "0" } });
    try {
      const token = await guestToken();
      expect((await check(token, off)).status).toBe(200);
      expect((await check(token, off)).status).toBe(200);
      expect(off.deps.tokens.cachedTokenCount).toBe(0);
    } finally {
      await off.stop();
    }
  });
});
