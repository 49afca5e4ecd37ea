import type { Response } from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startAdminKeyForTest } from "@authplane/admin-key/testing";
import { type EventEnvelope, EventType, OTP_REQUESTED_TYPE, OtpRequestedData, SessionResponse } from "@authplane/contracts";
import { createLogger, generateSealKeyPair, isUniqueViolation } from "@authplane/service-kit";
import { captureLogs, createTestIsolation } from "@authplane/service-kit/testing";
import type { Express } from "express";
import { createApp } from "../src/app.js";
import { type AppDeps, buildDeps, closeDeps } from "../src/deps.js";
import { Env } from "../src/env.js";
import { migrate } from "../src/migrate.js";
import { issueSession, newConsumerId } from "../src/usecases/issue-session.js";
import { openJobCode, request } from "./helpers.js";

const iso = createTestIsolation();
const logs = captureLogs();
type Org = Awaited<ReturnType<Awaited<ReturnType<typeof startAdminKeyForTest>>["createOrganization"]>>;
let adminKey: Awaited<ReturnType<typeof startAdminKeyForTest>>;
let orgA: Org;
let orgB: Org;
const instances: AppDeps[] = [];
/** Default OTP numbers (30 s cooldown, 5 sends/hour, 30 requests/IP/hour). */
let app: Express;
let deps: AppDeps;
/** Same data, no resend cooldown, tight SMS-country and verify-per-IP caps. */
let loose: Express;
let ipSeq = 0;

async function startInstance(env: Record<string, string> = {}, withLogs = false): Promise<{ app: Express; deps: AppDeps }> {
  const parsed = Env.parse({ ...iso.env("consumer-auth"), PORT: "0", ...env });
  await migrate(parsed);
  const logger = withLogs ? createLogger({ name: "consumer-auth", level: "trace", destination: logs.stream }) : undefined;
  const d = await buildDeps(parsed, { logger });
  instances.push(d);
  return { app: createApp(d), deps: d };
}

/** A fresh client IP per test (TRUST_PROXY=loopback honours X-Forwarded-For from supertest). */
function newIp(): string {
  ipSeq += 1;
  return `198.51.100.${ipSeq}`;
}

beforeAll(async () => {
  adminKey = await startAdminKeyForTest(iso);
  orgA = await adminKey.createOrganization({ name: "Acme Shop" });
  orgB = await adminKey.createOrganization({ name: "Other Org" });
  ({ app, deps } = await startInstance({}, true));
  ({ app: loose } = await startInstance({
    OTP_RESEND_COOLDOWN_SECONDS: "0",
    OTP_SMS_COUNTRY_HOURLY_CAP: "5",
    OTP_IP_VERIFIES_PER_HOUR: "4",
  }));
}, 60_000);

afterAll(async () => {
  for (const d of instances) await closeDeps(d);
  await adminKey.stop();
  await iso.cleanup();
});

interface Job {
  envelope: EventEnvelope;
  data: OtpRequestedData;
  msgId: string | undefined;
  /** The stored message exactly as NATS keeps it on disk and hands to any stream reader. */
  raw: string;
}

/** The last delivery job JetStream stored (and acked) on the OTP subject. */
async function lastJob(): Promise<Job> {
  const msg = await deps.jsm.streams.getMessage(iso.subjects.otpStream, { last_by_subj: iso.subjects.otpRequested });
  if (!msg) throw new Error("no OTP job in the stream");
  const envelope = msg.json<EventEnvelope>();
  return {
    envelope,
    data: OtpRequestedData.parse(envelope.data),
    msgId: msg.header?.get("Nats-Msg-Id"),
    raw: Buffer.from(msg.data).toString("latin1"),
  };
}

/** Opens the sealed code as otp-delivery does (with the development private key). */
function openCode(job: Job, privateKey?: string): string {
  return openJobCode({ ...job.envelope, data: job.data }, privateKey);
}

async function requestCode(
  target: Express,
  body: Record<string, unknown>,
  opts: { key?: string; ip?: string } = {},
): Promise<{ status: number; code: string | null; job: Job | null; res: Response }> {
  const res = await request(target)
    .post("/api/v1/auth/otp/request")
    .set("X-Publishable-Key", opts.key ?? orgA.keys.publishable.test)
    .set("X-Forwarded-For", opts.ip ?? newIp())
    .send(body);
  if (res.status !== 200) return { status: res.status, code: null, job: null, res };
  const job = await lastJob();
  return { status: res.status, code: openCode(job), job, res };
}

function verify(target: Express, body: Record<string, unknown>, opts: { key?: string; ip?: string; bearer?: string } = {}) {
  const r = request(target)
    .post("/api/v1/auth/otp/verify")
    .set("X-Publishable-Key", opts.key ?? orgA.keys.publishable.test)
    .set("X-Forwarded-For", opts.ip ?? newIp());
  if (opts.bearer) r.set("Authorization", `Bearer ${opts.bearer}`);
  return r.send(body);
}

function wrongCode(code: string): string {
  return code === "000000" ? "000001" : "000000";
}

const EXPIRED = { error: "otp_expired", message: "Your verification code has expired. Please request a new one." };
const INVALID = { error: "otp_invalid", message: "Invalid verification code. Please try again." };

describe("email OTP", () => {
  it("requests a code (acked job on the OTP stream) and verifies it into a session, once", async () => {
    const { status, code, job, res } = await requestCode(app, { email: "  Jane.Doe@Example.com " });
    expect(status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(job?.envelope.type).toBe(OTP_REQUESTED_TYPE);
    expect(job?.msgId).toBe(job?.envelope.id);
    expect(job?.envelope.organizationId).toBe(orgA.organization.id);
    expect(job?.envelope.mode).toBe("test");
    expect(job?.data).toMatchObject({ channel: "email", to: "jane.doe@example.com", ttlSeconds: 600, organizationName: "Acme Shop" });
    expect(job?.data.requestId).toMatch(/^otp_/);
    expect(code).toMatch(/^\d{6}$/);
    const ttl = Date.parse(job?.data.expiresAt ?? "") - Date.now();
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);

    const ok = await verify(app, { email: "JANE.DOE@example.com", code });
    expect(ok.status).toBe(200);
    const body = SessionResponse.parse(ok.body);
    expect(body.session).toMatchObject({ type: "otp", email: "jane.doe@example.com" });
    expect(body.session.consumerId).toMatch(/^cons_/);
    expect(body.session.guestId).toBeUndefined();
    const row = await deps.prisma.consumer.findUnique({ where: { id: body.session.consumerId } });
    expect(row).toMatchObject({ organizationId: orgA.organization.id, mode: "test", kind: "registered", email: "jane.doe@example.com" });
    expect(row?.emailVerifiedAt).toBeInstanceOf(Date);

    // Single use.
    const again = await verify(app, { email: "jane.doe@example.com", code });
    expect(again.status).toBe(401);
    expect(again.body).toEqual(EXPIRED);

    // A second sign-in reaches the same consumer.
    const second = await requestCode(loose, { email: "jane.doe@example.com" });
    const ok2 = await verify(app, { email: "jane.doe@example.com", code: second.code });
    expect(ok2.body.session.consumerId).toBe(body.session.consumerId);
  });

  it("refuses missing/invalid keys and bad bodies without a 500", async () => {
    const noKey = await request(app).post("/api/v1/auth/otp/request").send({ email: "a@example.com" });
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ error: "Authentication required" });
    const badKey = await requestCode(app, { email: "a@example.com" }, { key: "pk_test_0000000000000000000000000000" });
    expect(badKey.status).toBe(401);
    for (const body of [{}, { email: "not-an-email" }, { email: "a@example.com", phone: "+12025551234" }, { phone: "12" }, { email: 5 }]) {
      const r = await requestCode(app, body);
      expect(r.status).toBe(400);
      expect(r.res.body.error).toBe("validation_error");
      expect(Array.isArray(r.res.body.issues)).toBe(true);
    }
    const badCode = await verify(app, { email: "a@example.com", code: "12ab" });
    expect(badCode.status).toBe(400);
  });
});

describe("codes sealed to otp-delivery", () => {
  it("a reader of the OTP stream learns no code: the stored job holds only a box that otp-delivery's key opens", async () => {
    for (const body of [{ email: "stream-reader@example.com" }, { phone: "+1 202 555 0143" }]) {
      const { status, code, job } = await requestCode(loose, body);
      expect(status).toBe(200);
      expect(code).toMatch(/^\d{6}$/);
      // The raw bytes NATS stores and serves to any reader with access to the stream.
      expect(job?.raw).not.toContain(code as string);
      expect(job?.raw).not.toMatch(/"code"\s*:/);
      expect(job?.envelope.version).toBe(2);
      expect(job?.data.sealedCode).toMatchObject({ alg: "X25519-HKDF-SHA256-A256GCM" });
      // The box is bound to its job: moved to another destination it does not open.
      const moved = { ...(job as Job), data: { ...(job as Job).data, to: "attacker@example.com" } };
      expect(() => openCode(moved)).toThrow(/does not open/);
      // Another key pair (anyone but otp-delivery) cannot open it.
      expect(() => openCode(job as Job, generateSealKeyPair().privateKey)).toThrow();
    }
  });

  it("seals to the configured OTP_SEAL_PUBLIC_KEY", async () => {
    const pair = generateSealKeyPair();
    const { app: sealed } = await startInstance({ OTP_SEAL_PUBLIC_KEY: pair.publicKey, OTP_RESEND_COOLDOWN_SECONDS: "0" });
    const res = await request(sealed)
      .post("/api/v1/auth/otp/request")
      .set("X-Publishable-Key", orgA.keys.publishable.test)
      .set("X-Forwarded-For", newIp())
      .send({ email: "own-key@example.com" });
    expect(res.status).toBe(200);
    const last = await lastJob();
    expect(last.data.to).toBe("own-key@example.com");
    expect(() => openCode(last)).toThrow();
    expect(openCode(last, pair.privateKey)).toMatch(/^\d{6}$/);
  });

  it("refuses a malformed key, and the development key in production", () => {
    expect(() => Env.parse({ ...iso.env("consumer-auth"), OTP_SEAL_PUBLIC_KEY: "not-a-key" })).toThrow(/OTP_SEAL_PUBLIC_KEY/);
    const production = {
      ...iso.env("consumer-auth"),
      NODE_ENV: "production",
      SIGNING_KEY_ENCRYPTION_KEY: "s".repeat(40),
      OTP_CODE_SECRET: "o".repeat(40),
      OPERATOR_TOKEN: "t".repeat(40),
    };
    expect(() => Env.parse(production)).toThrow(/OTP_SEAL_PUBLIC_KEY/);
    expect(() => Env.parse({ ...production, OTP_SEAL_PUBLIC_KEY: generateSealKeyPair().publicKey })).not.toThrow();
  });
});

describe("phone OTP", () => {
  it("normalizes several formats of one number to one E.164 identity and one consumer", async () => {
    const formats = [
      { phone: "+1 202-555-1234" },
      { phone: "(202) 555-1234", defaultCountry: "US" },
      { phone: "2025551234", defaultCountry: "US" },
      { phone: "+12025551234", defaultCountry: "US" },
    ];
    const consumerIds = new Set<string>();
    for (const f of formats) {
      const { status, code, job } = await requestCode(loose, f);
      expect(status).toBe(200);
      expect(job?.data).toMatchObject({ channel: "sms", to: "+12025551234", country: "US" });
      // Verify with the format the user typed.
      const r = await verify(loose, { ...f, code });
      expect(r.status).toBe(200);
      expect(r.body.session).toMatchObject({ type: "otp", phone: "+12025551234" });
      consumerIds.add(r.body.session.consumerId);
    }
    expect(consumerIds.size).toBe(1);
    const rows = await deps.prisma.consumer.findMany({ where: { organizationId: orgA.organization.id, phone: "+12025551234" } });
    expect(rows).toHaveLength(1);
  });

  it("rejects numbers that are not valid (400 on the phone field)", async () => {
    const r = await requestCode(app, { phone: "555-1234", defaultCountry: "US" });
    expect(r.status).toBe(400);
    expect(r.res.body).toMatchObject({ error: "validation_error", issues: [expect.objectContaining({ path: ["phone"] })] });
    const national = await requestCode(app, { phone: "2025551234" });
    expect(national.status).toBe(400);
  });

  it("caps SMS per destination country per hour (429 + Retry-After)", async () => {
    const gb = ["020 7946 0000", "020 7946 0001", "020 7946 0002", "020 7946 0003", "020 7946 0004", "020 7946 0005"];
    const statuses = [];
    let last: Response | null = null;
    for (const phone of gb) {
      const r = await requestCode(loose, { phone, defaultCountry: "GB" });
      statuses.push(r.status);
      last = r.res;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last?.body.error).toBe("otp_sms_country_limited");
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
  });
});

describe("SMS pumping", () => {
  it("a sweep across numbers and countries stops at the organization-wide SMS ceiling (per organization and mode)", async () => {
    const { app: pump } = await startInstance({
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_SMS_ORG_HOURLY_CAP: "4",
      OTP_IP_REQUESTS_PER_HOUR: "1000",
    });
    const key = orgB.keys.publishable.test;
    const sweep = ["+442079460001", "+12025551101", "+33612345678", "+4915123456789", "+442079460002", "+12025551102", "+33612345679"];
    const answers: Response[] = [];
    for (const phone of sweep) answers.push((await requestCode(pump, { phone }, { key })).res);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429, 429]);
    for (const r of answers.slice(4)) {
      expect(r.body).toMatchObject({ error: "otp_sms_limited", message: expect.any(String) });
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(3000);
    }
    // Email is not SMS, and the other mode and other organizations keep their own ceilings.
    expect((await requestCode(pump, { email: "pump-email@example.com" }, { key })).status).toBe(200);
    expect((await requestCode(pump, { phone: "+442079460003" }, { key: orgB.keys.publishable.live })).status).toBe(200);
    const orgC = await adminKey.createOrganization({ name: "Pump Bystander" });
    expect((await requestCode(pump, { phone: "+81312345678" }, { key: orgC.keys.publishable.test })).status).toBe(200);
  });

  it("a sweep to countries the organization does not allow is refused (403) and spends no budget", async () => {
    const org = await adminKey.createOrganization({ name: "Country Policy" });
    const patched = await request(adminKey.app)
      .patch("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${org.keys.secret.live}`)
      .send({ smsAllowedCountries: ["gb", "FR"] });
    expect(patched.status).toBe(200);
    expect(patched.body.settings.smsAllowedCountries).toEqual(["FR", "GB"]);
    const bad = await request(adminKey.app)
      .patch("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${org.keys.secret.live}`)
      .send({ smsAllowedCountries: ["GBR"] });
    expect(bad.status).toBe(400);

    const { app: pump } = await startInstance({ OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_SMS_ORG_HOURLY_CAP: "2" });
    const key = org.keys.publishable.live;
    for (const phone of ["+12025551301", "+4915123456701", "+81312345601", "+12025551302", "+4915123456702"]) {
      const r = await requestCode(pump, { phone }, { key });
      expect(r.status).toBe(403);
      expect(r.res.body).toEqual({ error: "otp_sms_country_not_allowed", message: expect.any(String) });
    }
    // The refused sweep took none of the organization's SMS budget (2 an hour here).
    expect((await requestCode(pump, { phone: "+442079461301" }, { key })).status).toBe(200);
    expect((await requestCode(pump, { phone: "+33612341301" }, { key })).status).toBe(200);
    expect((await requestCode(pump, { phone: "+442079461302" }, { key })).res.body.error).toBe("otp_sms_limited");
    // The setting is per mode: the test key of the same organization may still text anywhere.
    expect((await requestCode(pump, { phone: "+12025551303" }, { key: org.keys.publishable.test })).status).toBe(200);
    // Email is not affected.
    expect((await requestCode(pump, { email: "country-policy@example.com" }, { key })).status).toBe(200);
  });

  it("the daily organization-wide SMS ceiling holds too", async () => {
    const { app: pump } = await startInstance({ OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_SMS_ORG_DAILY_CAP: "2" });
    const key = orgA.keys.publishable.live;
    const statuses = [];
    for (const phone of ["+442079460011", "+12025551111", "+33612345611"]) statuses.push((await requestCode(pump, { phone }, { key })).res);
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[2]?.body.error).toBe("otp_sms_limited");
    expect(Number(statuses[2]?.headers["retry-after"])).toBeGreaterThan(23 * 3600);
  });
});

describe("attacks on codes", () => {
  it("kills a code for a client after 5 wrong tries; that client's right code is refused afterwards", async () => {
    const { code } = await requestCode(app, { email: "brute@example.com" });
    const ip = newIp();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await verify(app, { email: "brute@example.com", code: wrongCode(code ?? "") }, { ip }));
    expect(results.slice(0, 4).map((r) => r.body)).toEqual([INVALID, INVALID, INVALID, INVALID]);
    expect(results[4]?.status).toBe(401);
    expect(results[4]?.body.error).toBe("otp_attempts_exceeded");
    const right = await verify(app, { email: "brute@example.com", code }, { ip });
    expect(right.status).toBe(401);
    expect(right.body.error).toBe("otp_attempts_exceeded");
    expect(right.body.message).toEqual(expect.any(String));
  });

  it("parallel wrong guesses from one client cannot exceed the limit", async () => {
    const { code } = await requestCode(app, { email: "parallel-brute@example.com" });
    const ip = newIp();
    const guesses = Array.from({ length: 12 }, (_, i) => String(100000 + i)).filter((g) => g !== code);
    const rs = await Promise.all(guesses.map((g) => verify(app, { email: "parallel-brute@example.com", code: g }, { ip })));
    expect(rs.filter((r) => r.body.error === "otp_invalid")).toHaveLength(4);
    expect((await verify(app, { email: "parallel-brute@example.com", code }, { ip })).body.error).toBe("otp_attempts_exceeded");
  });

  it("10 parallel verifies of one code give exactly one session", async () => {
    const { code } = await requestCode(app, { email: "race@example.com" });
    const rs = await Promise.all(Array.from({ length: 10 }, () => verify(app, { email: "race@example.com", code })));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 401 && r.body.error === "otp_expired")).toHaveLength(9);
    const consumer = await deps.prisma.consumer.findFirst({ where: { email: "race@example.com" } });
    expect(await deps.prisma.session.count({ where: { consumerId: consumer?.id } })).toBe(1);
  });

  it("a code is usable only with a key of its organization and mode", async () => {
    const { code } = await requestCode(app, { email: "scoped@example.com" });
    const otherOrg = await verify(app, { email: "scoped@example.com", code }, { key: orgB.keys.publishable.test });
    expect(otherOrg.status).toBe(401);
    expect(otherOrg.body).toEqual(EXPIRED);
    const liveMode = await verify(app, { email: "scoped@example.com", code }, { key: orgA.keys.publishable.live });
    expect(liveMode.body).toEqual(EXPIRED);
    const noKey = await request(app).post("/api/v1/auth/otp/verify").send({ email: "scoped@example.com", code });
    expect(noKey.status).toBe(401);
    // Those attempts did not touch the real code.
    expect((await verify(app, { email: "scoped@example.com", code })).status).toBe(200);
  });

  it("answers the same for known and unknown identities", async () => {
    const known = "known@example.com";
    const first = await requestCode(loose, { email: known });
    expect((await verify(loose, { email: known, code: first.code })).status).toBe(200);
    const times: Record<string, number[]> = { known: [], unknown: [] };
    const bodies = new Set<string>();
    for (let i = 0; i < 3; i++) {
      for (const [label, email] of [
        ["known", known],
        ["unknown", `nobody-${i}@example.com`],
      ] as const) {
        const t0 = performance.now();
        const r = await requestCode(loose, { email });
        times[label]?.push(performance.now() - t0);
        expect(r.status).toBe(200);
        bodies.add(JSON.stringify(r.res.body));
      }
    }
    expect([...bodies]).toEqual(['{"ok":true}']);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // Same work either way (no lookup on request): medians within a generous margin.
    expect(Math.abs(median(times.known ?? []) - median(times.unknown ?? []))).toBeLessThan(100);
  });
});

describe("limits", () => {
  it("applies the 30 s resend cooldown and the hourly cap per identity (429 + Retry-After)", async () => {
    await requestCode(app, { email: "cooldown@example.com" });
    const again = await requestCode(app, { email: "cooldown@example.com" });
    expect(again.status).toBe(429);
    expect(again.res.body.error).toBe("otp_resend_cooldown");
    const retryAfter = Number(again.res.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);

    const statuses = [];
    let last: Response | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await requestCode(loose, { email: "hourly@example.com" });
      statuses.push(r.status);
      last = r.res;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last?.body.error).toBe("otp_rate_limited");
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(3000);
  });

  it("limits OTP requests and verifies per client IP", async () => {
    const ip = newIp();
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 31; i++) {
      const r = await requestCode(app, { email: "per-ip@example.com" }, { ip });
      statuses.push(r.status);
      last = r.res;
    }
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1, 30).every((s) => s === 429)).toBe(true);
    expect(last?.body.error).toBe("rate_limited");
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
    // Another IP is not affected by this one's bucket.
    expect((await requestCode(app, { email: "per-ip-2@example.com" })).status).toBe(200);

    const vip = newIp();
    const vs = [];
    for (let i = 0; i < 5; i++) vs.push((await verify(loose, { email: "nobody@example.com", code: "123456" }, { ip: vip })).status);
    expect(vs).toEqual([401, 401, 401, 401, 429]);
  });
});

describe("lockout attempts (budgets per identity and client, identity-wide ceiling)", () => {
  it("an attacker's many wrong codes from one IP get growing delays and do not stop the owner's code from another IP", async () => {
    const { app: strict } = await startInstance({
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_CLIENT_FREE_FAILURES: "2",
      OTP_CLIENT_DELAY_BASE_SECONDS: "1",
    });
    const email = "lockout-victim@example.com";
    const owner = newIp();
    const attacker = newIp();
    const { code } = await requestCode(strict, { email }, { ip: owner });
    const wrong = wrongCode(code ?? "");
    // Two free wrong codes, then every wrong code makes the attacker wait twice as long.
    expect((await verify(strict, { email, code: wrong }, { ip: attacker })).body).toEqual(INVALID);
    expect((await verify(strict, { email, code: wrong }, { ip: attacker })).body).toEqual(INVALID);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await verify(strict, { email, code: wrong }, { ip: attacker })).status).toBe(401);
      const held = await verify(strict, { email, code: wrong }, { ip: attacker });
      expect(held.status).toBe(429);
      expect(held.body).toMatchObject({ error: "otp_verify_delayed", message: expect.any(String) });
      delays.push(Number(held.headers["retry-after"]));
      await new Promise((r) => setTimeout(r, (delays[i] ?? 0) * 1000 + 100));
    }
    expect(delays).toEqual([1, 2, 4]);
    // The code is dead for the attacker's client (5 wrong tries): even the right code is refused...
    const dead = await verify(strict, { email, code }, { ip: attacker });
    expect(dead.status).toBe(401);
    expect(dead.body.error).toBe("otp_attempts_exceeded");
    // ...but the owner, from their own device, signs in with the same code.
    const ok = await verify(strict, { email, code }, { ip: owner });
    expect(ok.status).toBe(200);
    expect(ok.body.session.consumerId).toEqual(expect.any(String));
  });

  it("addresses of one IPv6 /64 are one client: they share its attempts at the code; the owner elsewhere still gets in", async () => {
    const email = "v6-victim@example.com";
    const { code } = await requestCode(app, { email }, { ip: "2001:db8:aa::1" });
    const tries = [];
    for (let i = 1; i <= 5; i++)
      tries.push((await verify(app, { email, code: wrongCode(code ?? "") }, { ip: `2001:db8:bb::${i}` })).body.error);
    expect(tries).toEqual(["otp_invalid", "otp_invalid", "otp_invalid", "otp_invalid", "otp_attempts_exceeded"]);
    expect((await verify(app, { email, code }, { ip: "2001:db8:bb::ffff" })).body.error).toBe("otp_attempts_exceeded");
    expect((await verify(app, { email, code }, { ip: "2001:db8:aa::1" })).status).toBe(200);
  });

  it("the identity-wide ceiling holds against guesses from many IPs: verify and request answer 429", async () => {
    const { app: strict } = await startInstance({ OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_FAILED_VERIFIES_PER_DAY: "8" });
    const email = "budget@example.com";
    const first = await requestCode(strict, { email });
    // Every guess from a fresh IP: no client budget or delay applies, the ceiling does.
    const tries = await Promise.all(Array.from({ length: 12 }, () => verify(strict, { email, code: wrongCode(first.code ?? "") })));
    expect(tries.filter((r) => r.body.error === "otp_invalid")).toHaveLength(8);
    expect(tries.filter((r) => r.status === 429 && r.body.error === "otp_verify_locked")).toHaveLength(4);

    // The right code of the live code is refused now (from yet another IP), and nothing is consumed by it.
    const locked = await verify(strict, { email, code: first.code });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: "otp_verify_locked", message: expect.any(String) });
    const retryAfter = Number(locked.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(23 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    // No new code is sent either (it could not be verified).
    const resend = await requestCode(strict, { email });
    expect(resend.status).toBe(429);
    expect(resend.res.body.error).toBe("otp_verify_locked");
    expect(await deps.prisma.consumer.count({ where: { email } })).toBe(0);

    // Another identity, or the same address in another organization, is not affected.
    const other = await requestCode(strict, { email: "budget-other@example.com" });
    expect((await verify(strict, { email: "budget-other@example.com", code: other.code })).status).toBe(200);
    const elsewhere = await requestCode(strict, { email }, { key: orgB.keys.publishable.test });
    expect(elsewhere.status).toBe(200);
  });

  it("a right code clears its client's count of wrong ones; right codes do not spend the ceiling", async () => {
    const { app: strict } = await startInstance({
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_CLIENT_FREE_FAILURES: "3",
      OTP_MAX_FAILED_VERIFIES_PER_DAY: "10",
    });
    const email = "budget-clear@example.com";
    const ip = newIp();
    for (let round = 0; round < 3; round++) {
      const { code } = await requestCode(strict, { email });
      for (let i = 0; i < 3; i++) expect((await verify(strict, { email, code: wrongCode(code ?? "") }, { ip })).body).toEqual(INVALID);
      expect((await verify(strict, { email, code }, { ip })).status).toBe(200);
    }
    // 9 wrong codes + 3 right ones: one more wrong code still fits under the ceiling of 10.
    const { code } = await requestCode(strict, { email });
    expect((await verify(strict, { email, code: wrongCode(code ?? "") }, { ip })).body).toEqual(INVALID);
    expect((await verify(strict, { email, code: wrongCode(code ?? "") }, { ip })).body.error).toBe("otp_verify_locked");
  });
});

describe("guest upgrade", () => {
  it("upgrades the calling guest in place (same consumer id, kind registered, event)", async () => {
    const guest = await request(app).post("/api/v1/auth/guest").set("X-Publishable-Key", orgA.keys.publishable.test);
    expect(guest.status).toBe(200);
    const guestId: string = guest.body.session.consumerId;
    const { code } = await requestCode(app, { email: "upgrade@example.com" });
    const r = await verify(app, { email: "upgrade@example.com", code }, { bearer: guest.body.accessToken });
    expect(r.status).toBe(200);
    expect(r.body.session).toMatchObject({ type: "otp", consumerId: guestId, email: "upgrade@example.com" });
    const row = await deps.prisma.consumer.findUnique({ where: { id: guestId } });
    expect(row).toMatchObject({ kind: "registered", email: "upgrade@example.com" });
    expect(row?.upgradedAt).toBeInstanceOf(Date);
    await deps.relay.flush();
    const ev = await deps.jsm.streams.getMessage(iso.subjects.eventsStream, {
      last_by_subj: iso.subjects.event(EventType.consumerUpgraded),
    });
    expect(ev?.json<EventEnvelope>().data).toMatchObject({ consumerId: guestId, via: "otp", email: "upgrade@example.com" });
  });

  it("signs in as the existing owner when the email is taken; the guest stays a guest", async () => {
    const guest = await request(app).post("/api/v1/auth/guest").set("X-Publishable-Key", orgA.keys.publishable.test);
    const guestId: string = guest.body.session.consumerId;
    const owner = await deps.prisma.consumer.findFirst({ where: { email: "upgrade@example.com" } });
    const again = await requestCode(loose, { email: "upgrade@example.com" });
    const r = await verify(app, { email: "upgrade@example.com", code: again.code }, { bearer: guest.body.accessToken });
    expect(r.status).toBe(200);
    expect(r.body.session.consumerId).toBe(owner?.id);
    expect((await deps.prisma.consumer.findUnique({ where: { id: guestId } }))?.kind).toBe("guest");
  });

  it("refuses an invalid or foreign guest token without burning the code", async () => {
    const otherGuest = await request(app).post("/api/v1/auth/guest").set("X-Publishable-Key", orgB.keys.publishable.test);
    const { code } = await requestCode(app, { email: "foreign-token@example.com" });
    const foreign = await verify(app, { email: "foreign-token@example.com", code }, { bearer: otherGuest.body.accessToken });
    expect(foreign.status).toBe(401);
    const garbage = await verify(app, { email: "foreign-token@example.com", code }, { bearer: "not.a.token" });
    expect(garbage.status).toBe(401);
    expect((await verify(app, { email: "foreign-token@example.com", code })).status).toBe(200);
  });
});

describe("delivery queue failure and expiry", () => {
  it("answers 503 when JetStream cannot take the job, leaves no usable code, recovers", async () => {
    await deps.jsm.streams.delete(iso.subjects.otpStream);
    const failed = await request(app)
      .post("/api/v1/auth/otp/request")
      .set("X-Publishable-Key", orgA.keys.publishable.test)
      .set("X-Forwarded-For", newIp())
      .send({ email: "nats-down@example.com" });
    expect(failed.status).toBe(503);
    expect(failed.headers["retry-after"]).toBeDefined();
    // No code is stored (not "invalid": "expired"), and the cooldown was given back.
    expect((await verify(app, { email: "nats-down@example.com", code: "123456" })).body).toEqual(EXPIRED);
    const retry = await requestCode(app, { email: "nats-down@example.com" });
    expect(retry.status).toBe(200);
    expect((await verify(app, { email: "nats-down@example.com", code: retry.code })).status).toBe(200);
  });

  it("a failed publish gives back every budget it took (cooldown, hourly sends, SMS ceilings, country cap)", async () => {
    const { app: tight } = await startInstance({
      OTP_MAX_SENDS_PER_HOUR: "1",
      OTP_SMS_ORG_HOURLY_CAP: "1",
      OTP_SMS_ORG_DAILY_CAP: "1",
      OTP_SMS_COUNTRY_HOURLY_CAP: "1",
    });
    // An organization of its own: the SMS buckets are shared by every instance.
    const org = await adminKey.createOrganization({ name: "Refund Org" });
    const key = org.keys.publishable.live;
    const phone = { phone: "+442079460123" };
    // The instance has published once (its stream is set up), then the stream goes away.
    expect((await requestCode(tight, { email: "refund-prime@example.com" }, { key })).status).toBe(200);
    await deps.jsm.streams.delete(iso.subjects.otpStream);
    const failed = await requestCode(tight, phone, { key });
    expect(failed.status).toBe(503);
    // Every budget is whole again: the same number gets its code at once, and it works.
    const retry = await requestCode(tight, phone, { key });
    expect(retry.status).toBe(200);
    expect((await verify(tight, { ...phone, code: retry.code }, { key })).status).toBe(200);
    // The budgets are really 1: a second number is refused now.
    const next = await requestCode(tight, { phone: "+442079460124" }, { key });
    expect(next.status).toBe(429);
  });

  it("expires codes after OTP_TTL_SECONDS", async () => {
    const short = await startInstance({ OTP_TTL_SECONDS: "1" });
    const { code, job } = await requestCode(short.app, { email: "expiry@example.com" });
    expect(job?.data.ttlSeconds).toBe(1);
    await new Promise((r) => setTimeout(r, 1_300));
    const r = await verify(short.app, { email: "expiry@example.com", code });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(EXPIRED);
  });
});

describe("consumer creation race", () => {
  it("recognizes the unique violation of a concurrent create (raw insert and model update)", async () => {
    const email = "taken@example.com";
    const scope = { organizationId: orgA.organization.id, mode: "test" as const };
    const create = () =>
      issueSession(deps, {
        ...scope,
        sessionType: "otp",
        method: "email_otp",
        settings: { accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 86_400, sessionLifetimeSeconds: 2_592_000 },
        consumer: { id: newConsumerId("registered"), kind: "registered", email, create: true },
      });
    await create();
    const raw = await create().catch((e: unknown) => e);
    expect(isUniqueViolation(raw)).toBe(true);
    const guest = await deps.prisma.consumer.create({ data: { id: newConsumerId("guest"), ...scope, kind: "guest" } });
    const model = await deps.prisma.consumer.update({ where: { id: guest.id }, data: { email } }).catch((e: unknown) => e);
    expect(isUniqueViolation(model)).toBe(true);
    expect(isUniqueViolation(new Error("connection refused"))).toBe(false);
  });
});

describe("logs", () => {
  it("never contain an OTP code", async () => {
    const { code } = await requestCode(app, { email: "logs@example.com" });
    await verify(app, { email: "logs@example.com", code: wrongCode(code ?? "") });
    await verify(app, { email: "logs@example.com", code });
    const text = logs.text();
    expect(text).toContain("otp requested");
    expect(text).toContain("otp verified");
    expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`));
  });
});
