import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AppError, createRedis, type Redis } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { OtpCodeStore } from "../src/otp/code-store.js";
import { OtpLimits } from "../src/otp/limits.js";
import { normalizeIdentity, normalizePhone, OtpIdentityInput } from "../src/otp/normalize-identity.js";

const iso = createTestIsolation();
let redis: Redis;
const scope = { organizationId: "org_01HXYZ0000000000000000000A", mode: "test" as const };
const email = normalizeIdentity({ email: "someone@example.com" });

beforeAll(() => {
  redis = createRedis(iso.redisUrl, `${iso.redisPrefix}unit:`);
});
afterAll(async () => {
  redis.disconnect();
  await iso.cleanup();
});

function store(overrides: Partial<{ ttlSeconds: number; maxAttempts: number }> = {}) {
  return new OtpCodeStore(redis, { codeSecret: "x".repeat(32), ttlSeconds: 60, maxAttempts: 5, length: 6, ...overrides });
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("phone and email normalization", () => {
  it.each([
    ["+1 202-555-1234", undefined],
    ["(202) 555-1234", "US"],
    ["2025551234", "US"],
    ["+12025551234", "US"],
    ["+1 (202) 555 1234", "GB"],
    [" 202.555.1234 ", "US"],
  ])("%s (default %s) -> +12025551234", (phone, defaultCountry) => {
    const input = OtpIdentityInput.parse({ phone, defaultCountry });
    expect(normalizeIdentity(input)).toEqual({ channel: "sms", kind: "phone", value: "+12025551234", country: "US" });
  });

  it("keeps the destination country for national numbers", () => {
    expect(normalizePhone("020 7946 0958", "GB")).toEqual({ e164: "+442079460958", country: "GB" });
  });

  it.each([
    ["12345", "US"],
    ["2025551234", undefined],
    ["not a phone", "US"],
    ["", "US"],
  ])("rejects %s (default %s) with a 400 on the phone field", (phone, defaultCountry) => {
    const err = (() => {
      try {
        normalizeIdentity(OtpIdentityInput.parse({ phone, defaultCountry }));
      } catch (e) {
        return e as AppError;
      }
      return null;
    })();
    expect(err?.status).toBe(400);
    expect(err?.code).toBe("validation_error");
  });

  it("lower-cases and trims emails, rejects bad ones and bodies with both or neither", () => {
    expect(normalizeIdentity(OtpIdentityInput.parse({ email: "  John.Doe@Example.COM " }))).toEqual({
      channel: "email",
      kind: "email",
      value: "john.doe@example.com",
    });
    expect(() => normalizeIdentity(OtpIdentityInput.parse({ email: "not-an-email" }))).toThrow(AppError);
    expect(OtpIdentityInput.safeParse({ email: "a@b.co", phone: "+12025551234" }).success).toBe(false);
    expect(OtpIdentityInput.safeParse({}).success).toBe(false);
    expect(OtpIdentityInput.safeParse({ phone: "2025551234", defaultCountry: "XX" }).success).toBe(false);
  });
});

describe("OtpCodeStore", () => {
  it("generates codes of the configured length with leading zeros kept", () => {
    const s = store();
    for (let i = 0; i < 200; i++) expect(s.generateCode()).toMatch(/^\d{6}$/);
  });

  it("accepts the right code once, and never stores it in clear", async () => {
    const s = store();
    const id = normalizeIdentity({ email: "once@example.com" });
    await s.store(scope, id, "123456", "otp_1");
    const keys = await redis.keys(`${iso.redisPrefix}unit:otp:code:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const h = await redis.hgetall(k.slice(`${iso.redisPrefix}unit:`.length));
      expect(JSON.stringify(h)).not.toContain("123456");
      expect(k).not.toContain("once@example.com");
    }
    expect(await s.verify(scope, id, "123456")).toBe("ok");
    expect(await s.verify(scope, id, "123456")).toBe("expired");
  });

  it("scopes codes by organization and mode", async () => {
    const s = store();
    await s.store(scope, email, "111111", "otp_2");
    expect(await s.verify({ ...scope, mode: "live" }, email, "111111")).toBe("expired");
    expect(await s.verify({ ...scope, organizationId: "org_other" }, email, "111111")).toBe("expired");
    expect(await s.verify(scope, email, "111111")).toBe("ok");
  });

  it("kills the code after maxAttempts wrong guesses, even for the right code afterwards", async () => {
    const s = store();
    await s.store(scope, email, "222222", "otp_3");
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await s.verify(scope, email, "000000"));
    expect(outcomes).toEqual(["invalid", "invalid", "invalid", "invalid", "killed"]);
    expect(await s.verify(scope, email, "222222")).toBe("exhausted");
  });

  it("counts attempts per client: another client's wrong guesses do not kill the owner's code", async () => {
    const s = store();
    await s.store(scope, email, "212121", "otp_3b");
    for (let i = 0; i < 5; i++) await s.verify(scope, email, "000000", "203.0.113.66");
    expect(await s.verify(scope, email, "212121", "203.0.113.66")).toBe("exhausted");
    expect(await s.verify(scope, email, "212121", "198.51.100.7")).toBe("ok");
  });

  it("parallel wrong guesses cannot exceed the attempt limit; parallel right ones succeed once", async () => {
    const s = store();
    await s.store(scope, email, "333333", "otp_4");
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => s.verify(scope, email, String(900000 + i))));
    expect(wrong.filter((o) => o === "invalid")).toHaveLength(4);
    expect(await s.verify(scope, email, "333333")).toBe("exhausted");

    await s.store(scope, email, "444444", "otp_5");
    const right = await Promise.all(Array.from({ length: 10 }, () => s.verify(scope, email, "444444")));
    expect(right.filter((o) => o === "ok")).toHaveLength(1);
  });

  it("expires with its TTL; revoke removes only the code of that request", async () => {
    const s = store({ ttlSeconds: 1 });
    await s.store(scope, email, "555555", "otp_6");
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await s.verify(scope, email, "555555")).toBe("expired");

    await s.store(scope, email, "666666", "otp_7");
    await s.revoke(scope, email, "otp_other");
    await s.revoke(scope, email, "otp_7");
    expect(await s.verify(scope, email, "666666")).toBe("expired");
  });
});

describe("OtpLimits", () => {
  const config = {
    resendCooldownSeconds: 30,
    maxSendsPerHour: 2,
    ipRequestsPerHour: 3,
    ipVerifiesPerHour: 3,
    smsCountryHourlyCap: 2,
    smsOrgHourlyCap: 100,
    smsOrgDailyCap: 100,
    maxFailedVerifiesPerDay: 3,
    clientFreeFailures: 5,
    clientDelayBaseSeconds: 2,
    clientDelayMaxSeconds: 3600,
  };

  it("applies a resend cooldown with Retry-After, and release gives it back", async () => {
    const limits = new OtpLimits(redis, config);
    const id = normalizeIdentity({ email: "cool@example.com" });
    const release = await limits.consumeSend(scope, id);
    const err = await rejection(limits.consumeSend(scope, id));
    expect(err.status).toBe(429);
    expect(err.code).toBe("otp_resend_cooldown");
    const retryAfter = Number(err.options.headers?.["Retry-After"]);
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    await release();
    await limits.consumeSend(scope, id);
  });

  it("caps sends per identity per hour", async () => {
    const limits = new OtpLimits(redis, { ...config, resendCooldownSeconds: 0 });
    const id = normalizeIdentity({ email: "hourly@example.com" });
    await limits.consumeSend(scope, id);
    await limits.consumeSend(scope, id);
    const err = await rejection(limits.consumeSend(scope, id));
    expect(err.code).toBe("otp_rate_limited");
    expect(Number(err.options.headers?.["Retry-After"])).toBeGreaterThan(3500);
  });

  it("caps SMS per destination country, across numbers", async () => {
    const limits = new OtpLimits(redis, { ...config, resendCooldownSeconds: 0, smsCountryHourlyCap: 2 });
    const gb = (n: string) => normalizeIdentity(OtpIdentityInput.parse({ phone: n, defaultCountry: "GB" }));
    await limits.consumeSend(scope, gb("020 7946 0958"));
    await limits.consumeSend(scope, gb("020 7946 0959"));
    const err = await rejection(limits.consumeSend(scope, gb("020 7946 0960")));
    expect(err.code).toBe("otp_sms_country_limited");
    // Another country is not affected.
    await limits.consumeSend(scope, normalizeIdentity(OtpIdentityInput.parse({ phone: "+12025551234" })));
  });

  it("limits requests and verifies per IP", async () => {
    const limits = new OtpLimits(redis, config);
    for (let i = 0; i < 3; i++) await limits.consumeRequestByIp("203.0.113.9");
    expect((await rejection(limits.consumeRequestByIp("203.0.113.9"))).code).toBe("rate_limited");
    for (let i = 0; i < 3; i++) await limits.consumeVerifyByIp("203.0.113.9");
    expect((await rejection(limits.consumeVerifyByIp("203.0.113.9"))).status).toBe(429);
  });
});
