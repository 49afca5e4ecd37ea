/**
 * The consumer browser SDK (@authplane/consumer-browser) against this service over real HTTP, in
 * Node (the same SDK code the demo page runs): each flow as the SDK sends it, each answer (and
 * error) as the SDK reads it. Cross-tab coordination in a real browser is covered by
 * infra/e2e/test/consumer-browser.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { type AdminKeyTestHandle, type CreatedOrganization, startAdminKeyForTest } from "@authplane/admin-key/testing";
import { Fanfare, FanfareError, MemoryStorage } from "@authplane/consumer-browser";
import type { EventEnvelope } from "@authplane/contracts";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { openJobCode } from "./helpers.js";

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let ca: ConsumerAuthForTest;
let org: CreatedOrganization;
let base: string;
const open: Fanfare[] = [];

beforeAll(async () => {
  admin = await startAdminKeyForTest(iso);
  ca = await startConsumerAuthForTest(iso, { listen: true, env: { OTP_RESEND_COOLDOWN_SECONDS: "0" } });
  org = await admin.createOrganization({ name: "SDK Org" });
  base = ca.url ?? "";
}, 60_000);

afterAll(async () => {
  for (const f of open) f.close();
  await ca?.stop();
  await admin?.stop();
  await iso.cleanup();
});

/** An SDK with its own memory storage; `requests` records what it sent (method, path, headers). */
function sdk(publishableKey = org.keys.publishable.test, storage = new MemoryStorage()) {
  const requests: Array<{ method: string; path: string; headers: Headers }> = [];
  const fanfare = new Fanfare({
    publishableKey,
    baseUrl: base,
    storage,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      requests.push({ method: req.method, path: new URL(req.url).pathname, headers: req.headers });
      return globalThis.fetch(req);
    },
  });
  open.push(fanfare);
  return { fanfare, requests, storage };
}

/** The code of the last OTP delivery job (what otp-delivery would send). */
async function lastCode(): Promise<string> {
  const msg = await ca.deps.jsm.streams.getMessage(iso.subjects.otpStream, { last_by_subj: iso.subjects.otpRequested });
  if (!msg) throw new Error("no OTP job");
  return openJobCode(msg.json<EventEnvelope>());
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

describe("flows", () => {
  test("guest -> OTP request/verify upgrades the guest in place -> fetch -> logout", async () => {
    const { fanfare, requests } = sdk();
    const guest = await fanfare.auth.guest();
    expect(guest.type).toBe("guest");
    expect(guest.consumerId).toMatch(/^guest_/);

    await fanfare.auth.requestOtp({ email: "ada.sdk@example.com" });
    const wrong = await caught(
      fanfare.auth.verifyOtp({ email: "ada.sdk@example.com", code: "000000" === (await lastCode()) ? "000001" : "000000" }),
    );
    expect([wrong.status, wrong.code, wrong.message]).toEqual([401, "otp_invalid", "Invalid verification code. Please try again."]);

    const answer = await fanfare.auth.verifyOtp({ email: "ada.sdk@example.com", code: await lastCode() });
    expect(answer.session.type).toBe("otp");
    expect(answer.session.consumerId).toBe(guest.consumerId);
    expect(answer.session.email).toBe("ada.sdk@example.com");

    const check = await fanfare.fetch("/api/v1/auth/check");
    expect(check.status).toBe(200);
    expect(check.headers.get("x-consumer-id")).toBe(guest.consumerId);

    const refreshToken = answer.refreshToken;
    await fanfare.auth.logout();
    expect(await fanfare.auth.getSession()).toBeNull();
    const logoutCall = requests.find((r) => r.path === "/api/v1/auth/logout");
    expect(logoutCall?.headers.get("x-publishable-key")).toBe(org.keys.publishable.test);
    expect(logoutCall?.headers.get("authorization")).toMatch(/^Bearer ey/);
    // The server revoked it: the old refresh token is refused.
    const res = await fetch(`${base}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-publishable-key": org.keys.publishable.test },
      body: JSON.stringify({ refreshToken }),
    });
    expect(res.status).toBe(401);
  });

  test("phone OTP in a national format with defaultCountry", async () => {
    const { fanfare } = sdk();
    await fanfare.auth.requestOtp({ phone: "(202) 555-0142", defaultCountry: "US" });
    const answer = await fanfare.auth.verifyOtp({ phone: "(202) 555-0142", defaultCountry: "US", code: await lastCode() });
    expect(answer.session.phone).toBe("+12025550142");
  });

  test("external exchange: the code from the server's /authorize becomes a stored session", async () => {
    const authorize = await fetch(`${base}/api/v1/auth/external/authorize`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${org.keys.secret.test}` },
      body: JSON.stringify({ provider: "shop", issuer: "https://shop.example", subject: "u-1" }),
    });
    const { exchangeCode } = (await authorize.json()) as { exchangeCode: string };
    const { fanfare } = sdk();
    const answer = await fanfare.auth.exchange(exchangeCode);
    expect(answer.session.type).toBe("external");
    expect((await fanfare.auth.getSession())?.consumerId).toBe(answer.session.consumerId);
    const again = await caught(sdk().fanfare.auth.exchange({ exchangeCode }));
    expect([again.status, again.code]).toEqual([401, "exchange_code_invalid"]);
  });
});

describe("refresh against the real rotation", () => {
  test("five concurrent refreshes send ONE request; the session is not revoked", async () => {
    const { fanfare, requests } = sdk();
    await fanfare.auth.guest();
    const results = await Promise.all(Array.from({ length: 5 }, () => fanfare.auth.refresh()));
    expect(requests.filter((r) => r.path === "/api/v1/auth/refresh")).toHaveLength(1);
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
    expect((await fanfare.fetch("/api/v1/auth/check")).status).toBe(200);
    // And the rotated token works again later (it was not spent twice).
    await fanfare.auth.refresh();
    expect((await fanfare.fetch("/api/v1/auth/check")).status).toBe(200);
  });

  test("an access token the API refuses: one refresh, the request repeated once with the new token", async () => {
    const storage = new MemoryStorage();
    const { fanfare } = sdk(org.keys.publishable.test, storage);
    await fanfare.auth.guest();
    // Tamper with the stored token's signature, as if its key were gone: the API answers 401.
    const key = `fanfare.session.${org.keys.publishable.test}`;
    const stored = JSON.parse(storage.getItem(key) ?? "{}") as { accessToken: string };
    const [h, p, sig] = stored.accessToken.split(".");
    stored.accessToken = `${h}.${p}.${sig?.startsWith("A") ? "B" : "A"}${sig?.slice(1)}`;
    storage.setItem(key, JSON.stringify(stored));
    const tampered = sdk(org.keys.publishable.test, storage);
    const res = await tampered.fanfare.fetch("/api/v1/auth/check");
    expect(res.status).toBe(200);
    const checks = tampered.requests.filter((r) => r.path === "/api/v1/auth/check");
    expect(checks.map((c) => c.headers.get("authorization") === `Bearer ${stored.accessToken}`)).toEqual([true, false]);
    expect(tampered.requests.filter((r) => r.path === "/api/v1/auth/refresh")).toHaveLength(1);
  });
});

describe("the API's errors as the SDK reads them", () => {
  test("validation_error with issues; Authentication required for an unknown key", async () => {
    const v = await caught(sdk().fanfare.auth.requestOtp({ phone: "12" }));
    expect([v.status, v.code]).toEqual([400, "validation_error"]);
    expect(v.issues?.[0]).toMatchObject({ path: ["phone"], code: "invalid_phone" });

    const unknown = await caught(sdk("pk_test_notarealkeynotarealkey00").fanfare.auth.guest());
    expect([unknown.status, unknown.code, unknown.message]).toEqual([401, "Authentication required", "Authentication required"]);
  });
});
