import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { Fanfare, FanfareError, MemoryStorage, SDK_VERSION, type Session } from "../src/index.js";
import { type FakeApi, FifoLocks, startFakeApi } from "./fake-api.js";

const PK = "pk_test_unit";
const KEY = `fanfare.session.${PK}`;

let api: FakeApi;
const open: Fanfare[] = [];

beforeEach(async () => {
  api = await startFakeApi();
});

afterEach(async () => {
  for (const f of open.splice(0)) f.close();
  await api.close();
});

function sdk(opts: Partial<ConstructorParameters<typeof Fanfare>[0]> = {}): Fanfare {
  const f = new Fanfare({ publishableKey: PK, baseUrl: api.url, storage: new MemoryStorage(), ...opts });
  open.push(f);
  return f;
}

async function caught(p: Promise<unknown>): Promise<FanfareError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FanfareError) return err;
    throw err;
  }
  throw new Error("expected a FanfareError");
}

test("SDK_VERSION equals package.json's version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  expect(SDK_VERSION).toBe(pkg.version);
});

describe("construction", () => {
  test("a secret key is refused before anything is sent", () => {
    expect(() => new Fanfare({ publishableKey: "sk_test_abc123" })).toThrow(/secret key/);
    expect(() => new Fanfare({ publishableKey: "nonsense" })).toThrow(/pk_live_/);
    expect(api.requests).toHaveLength(0);
  });
});

describe("guest and OTP", () => {
  test("guest() sends only the publishable key, stores the session, and reuses it on the next call", async () => {
    const storage = new MemoryStorage();
    const f = sdk({ storage });
    const session = await f.auth.guest();
    expect(session.type).toBe("guest");
    expect(session.consumerId).toMatch(/^guest_/);
    const [call] = api.calls("/api/v1/auth/guest");
    expect(call?.headers["x-publishable-key"]).toBe(PK);
    expect(call?.headers.authorization).toBeUndefined();
    expect(JSON.parse(storage.getItem(KEY) ?? "null").session.consumerId).toBe(session.consumerId);
    // Same browser, new page: the stored session, no second guest.
    const again = await sdk({ storage }).auth.guest();
    expect(again.consumerId).toBe(session.consumerId);
    expect(api.calls("/api/v1/auth/guest")).toHaveLength(1);
  });

  test("verifyOtp upgrades the held guest (its token is sent) and replaces the stored session", async () => {
    const f = sdk();
    const guest = await f.auth.guest();
    const guestToken = await f.auth.getAccessToken();
    await f.auth.requestOtp({ phone: "+12025551234", defaultCountry: "US" });
    expect(api.calls("/api/v1/auth/otp/request")[0]?.body).toEqual({ phone: "+12025551234", defaultCountry: "US" });
    const answer = await f.auth.verifyOtp({ phone: "+12025551234", code: "123456", defaultCountry: "US" });
    const [verify] = api.calls("/api/v1/auth/otp/verify");
    expect(verify?.headers.authorization).toBe(`Bearer ${guestToken}`);
    expect(verify?.body).toEqual({ phone: "+12025551234", code: "123456", defaultCountry: "US" });
    expect(answer.session.type).toBe("otp");
    expect(answer.session.consumerId).toBe(guest.consumerId);
    expect((await f.auth.getSession())?.type).toBe("otp");
  });

  test("a refused guest token is dropped and the code tried again without it; a wrong code is never retried", async () => {
    const f = sdk();
    await f.auth.guest();
    api.refused.add((await f.auth.getAccessToken()) ?? "");
    const ok = await f.auth.verifyOtp({ email: "ada@example.com", code: "123456" });
    expect(ok.session.consumerId).toMatch(/^cons_/);
    const verifies = api.calls("/api/v1/auth/otp/verify");
    expect(verifies).toHaveLength(2);
    expect(verifies[1]?.headers.authorization).toBeUndefined();

    const err = await caught(f.auth.verifyOtp({ email: "ada@example.com", code: "000000" }));
    expect(api.calls("/api/v1/auth/otp/verify")).toHaveLength(3);
    expect(err.code).toBe("otp_invalid");
  });
});

describe("refresh", () => {
  test("single-flight: concurrent refresh() calls in one tab make ONE request and all get the same tokens", async () => {
    const f = sdk();
    await f.auth.guest();
    const results = await Promise.all(Array.from({ length: 5 }, () => f.auth.refresh()));
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
    // The session survived (the fake revokes on any reuse of a spent token).
    const check = await f.fetch("/api/v1/auth/check");
    expect(check.status).toBe(200);
  });

  test("two tabs (shared storage, one lock manager) refreshing at once rotate once and end with the same tokens", async () => {
    const storage = new MemoryStorage();
    const locks = new FifoLocks();
    const tab1 = sdk({ storage, locks });
    await tab1.auth.guest();
    const tab2 = sdk({ storage, locks });
    expect((await tab2.auth.getSession())?.consumerId).toBe((await tab1.auth.getSession())?.consumerId);
    const [a, b] = await Promise.all([tab1.auth.refresh(), tab2.auth.refresh()]);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
    expect(a.refreshToken).toBe(b.refreshToken);
    expect((await tab1.fetch("/api/v1/auth/check")).status).toBe(200);
    expect((await tab2.fetch("/api/v1/auth/check")).status).toBe(200);
  });

  test("without the lock the same two tabs spend one refresh token twice and the session is revoked (what the lock prevents)", async () => {
    const storage = new MemoryStorage();
    const tab1 = sdk({ storage, locks: null });
    await tab1.auth.guest();
    const tab2 = sdk({ storage, locks: null });
    await tab2.auth.getSession();
    const outcomes = await Promise.allSettled([tab1.auth.refresh(), tab2.auth.refresh()]);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(2);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  test("a refused refresh (session revoked) ends the session locally and tells the listeners", async () => {
    const f = sdk();
    await f.auth.guest();
    const seen: Array<Session | null> = [];
    f.auth.onChange((s) => seen.push(s));
    api.revokeAll();
    const err = await caught(f.auth.refresh());
    expect(err.status).toBe(401);
    expect(err.code).toBe("session_revoked");
    expect(await f.auth.getSession()).toBeNull();
    expect(seen).toEqual([null]);
  });

  test("an access token about to expire is refreshed before an authenticated call, not after a 401", async () => {
    api.accessTtlSeconds = 10; // inside the 30 s leeway
    const f = sdk();
    await f.auth.guest();
    api.accessTtlSeconds = 3600;
    const res = await f.fetch("/api/v1/auth/check");
    expect(res.status).toBe(200);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
    expect(api.calls("/api/v1/auth/check", "GET")).toHaveLength(1);
  });
});

describe("authenticated fetch", () => {
  test("adds X-Publishable-Key and Authorization: Bearer, resolving /paths against baseUrl", async () => {
    const f = sdk();
    await f.auth.guest();
    const token = await f.auth.getAccessToken();
    const res = await f.fetch("/api/v1/auth/check", { headers: { "X-Custom": "kept" } });
    expect(res.status).toBe(200);
    const [call] = api.calls("/api/v1/auth/check", "GET");
    expect(call?.headers["x-publishable-key"]).toBe(PK);
    expect(call?.headers.authorization).toBe(`Bearer ${token}`);
    expect(call?.headers["x-custom"]).toBe("kept");
  });

  test("a 401 refreshes once and repeats the request once, body included", async () => {
    const f = sdk();
    await f.auth.guest();
    const stale = (await f.auth.getAccessToken()) ?? "";
    api.refused.add(stale);
    const res = await f.fetch("/api/v1/auth/check", {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { echo: unknown }).echo).toEqual({ n: 1 });
    const checks = api.calls("/api/v1/auth/check");
    expect(checks).toHaveLength(2);
    expect(checks[0]?.headers.authorization).toBe(`Bearer ${stale}`);
    expect(checks[1]?.headers.authorization).toBe(`Bearer ${await f.auth.getAccessToken()}`);
    expect(checks[1]?.headers.authorization).not.toBe(checks[0]?.headers.authorization);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
  });

  test("a second 401 is returned as it is: one refresh, two requests, never a loop", async () => {
    const f = sdk();
    await f.auth.guest();
    api.script("/api/v1/auth/check", { status: 401, body: { error: "Authentication required" } });
    api.script("/api/v1/auth/check", { status: 401, body: { error: "Authentication required" } });
    const res = await f.fetch("/api/v1/auth/check");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Authentication required" });
    expect(api.calls("/api/v1/auth/check", "GET")).toHaveLength(2);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
  });

  test("concurrent 401s of one tab share one refresh", async () => {
    const f = sdk();
    await f.auth.guest();
    api.refused.add((await f.auth.getAccessToken()) ?? "");
    const responses = await Promise.all(Array.from({ length: 4 }, () => f.fetch("/api/v1/auth/check")));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(1);
  });

  test("a 401 whose refresh is refused returns the 401 and signs out", async () => {
    const f = sdk();
    await f.auth.guest();
    api.revokeAll();
    const res = await f.fetch("/api/v1/auth/check");
    expect(res.status).toBe(401);
    expect(api.calls("/api/v1/auth/check", "GET")).toHaveLength(1);
    expect(await f.auth.getSession()).toBeNull();
  });

  test("without a session the request goes out with the publishable key only", async () => {
    const f = sdk();
    const res = await f.fetch("/api/v1/auth/check");
    expect(res.status).toBe(401);
    const [call] = api.calls("/api/v1/auth/check", "GET");
    expect(call?.headers["x-publishable-key"]).toBe(PK);
    expect(call?.headers.authorization).toBeUndefined();
    expect(api.calls("/api/v1/auth/refresh")).toHaveLength(0);
  });
});

describe("errors in seed 000's format", () => {
  test("{error, message}: code and message as the API wrote them", async () => {
    const err = await caught(sdk().auth.verifyOtp({ email: "ada@example.com", code: "999999" }));
    expect(err).toBeInstanceOf(FanfareError);
    expect(err.name).toBe("FanfareError");
    expect(err.status).toBe(401);
    expect(err.code).toBe("otp_invalid");
    expect(err.message).toBe("Invalid verification code. Please try again.");
  });

  test('{"error": "Authentication required"}: the sentence is the code and the message', async () => {
    const f = new Fanfare({ publishableKey: "pk_test_other", baseUrl: api.url, storage: "memory" });
    open.push(f);
    const err = await caught(f.auth.guest());
    expect(err.status).toBe(401);
    expect(err.code).toBe("Authentication required");
    expect(err.message).toBe("Authentication required");
  });

  test("validation_error carries its issues", async () => {
    api.script("/api/v1/auth/otp/request", {
      status: 400,
      body: { error: "validation_error", issues: [{ path: ["phone"], message: "Not a valid phone number", code: "invalid_phone" }] },
    });
    const err = await caught(sdk().auth.requestOtp({ phone: "12" }));
    expect(err.status).toBe(400);
    expect(err.code).toBe("validation_error");
    expect(err.issues).toEqual([{ path: ["phone"], message: "Not a valid phone number", code: "invalid_phone" }]);
  });

  test("429: Retry-After header, else the body's retryAfter", async () => {
    api.script("/api/v1/auth/otp/request", {
      status: 429,
      body: { error: "otp_resend_cooldown", message: "Wait before asking for another code.", retryAfter: 30 },
      headers: { "retry-after": "27" },
    });
    api.script("/api/v1/auth/otp/request", { status: 429, body: { error: "rate_limited", retryAfter: 12 } });
    const f = sdk();
    const first = await caught(f.auth.requestOtp({ email: "ada@example.com" }));
    expect([first.status, first.code, first.retryAfter, first.message]).toEqual([
      429,
      "otp_resend_cooldown",
      27,
      "Wait before asking for another code.",
    ]);
    const second = await caught(f.auth.requestOtp({ email: "ada@example.com" }));
    expect([second.code, second.retryAfter]).toEqual(["rate_limited", 12]);
  });

  test("a non-JSON answer (a proxy's HTML page) is invalid_response with its status", async () => {
    api.script("/api/v1/auth/guest", { status: 502, raw: "<html>Bad Gateway</html>", headers: { "retry-after": "5" } });
    const err = await caught(sdk().auth.guest());
    expect([err.status, err.code, err.retryAfter]).toEqual([502, "invalid_response", 5]);
  });

  test("no answer: network_error (status 0); too slow: timeout", async () => {
    const down = new Fanfare({ publishableKey: PK, baseUrl: "http://127.0.0.1:9", storage: "memory" });
    open.push(down);
    const refused = await caught(down.auth.guest());
    expect([refused.status, refused.code]).toEqual([0, "network_error"]);

    api.script("/api/v1/auth/guest", { status: 200, body: {}, delayMs: 1_000 });
    const slow = await caught(sdk({ timeoutMs: 100 }).auth.guest());
    expect([slow.status, slow.code]).toEqual([0, "timeout"]);
  });

  test("a 200 that is not a session response is invalid_response, and nothing is stored", async () => {
    api.script("/api/v1/auth/guest", { status: 200, body: { hello: "world" } });
    const f = sdk();
    const err = await caught(f.auth.guest());
    expect(err.code).toBe("invalid_response");
    expect(await f.auth.getSession()).toBeNull();
  });
});

describe("logout", () => {
  test("revokes the session with the bearer token and the key, and clears it", async () => {
    const storage = new MemoryStorage();
    const f = sdk({ storage });
    await f.auth.guest();
    const token = await f.auth.getAccessToken();
    await f.auth.logout();
    const [call] = api.calls("/api/v1/auth/logout");
    expect(call?.headers.authorization).toBe(`Bearer ${token}`);
    expect(call?.headers["x-publishable-key"]).toBe(PK);
    expect(storage.getItem(KEY)).toBeNull();
    expect((await f.fetch("/api/v1/auth/check")).status).toBe(401);
  });

  test("when the server cannot be told, the session is still removed here and the error is thrown", async () => {
    const storage = new MemoryStorage();
    const f = sdk({ storage });
    await f.auth.guest();
    api.script("/api/v1/auth/logout", { status: 503, body: { error: "service_unavailable" }, headers: { "retry-after": "1" } });
    const err = await caught(f.auth.logout());
    expect([err.status, err.code]).toEqual([503, "service_unavailable"]);
    expect(storage.getItem(KEY)).toBeNull();
    expect(await f.auth.getSession()).toBeNull();
  });
});
