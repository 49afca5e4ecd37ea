import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, createLogger, generateSealKeyPair, type PgPool, parseEnv } from "@authplane/service-kit";
import { createTestIsolation, fuzzEndpoints, isConsumerErrorBody } from "@authplane/service-kit/testing";
import { ulid } from "@authplane/service-kit";
import { Env } from "../src/env.js";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { fetchChecked } from "./support/harness.js";
import { connectTestNats, deliveries, ORG_ID, otpJob, publishJob, type TestJob, type TestNats, testPool, waitFor } from "./support/jobs.js";

// Issue 14: the dashboard's view of OTP deliveries. Every delivery here is a real one: an OTP job
// published on the stream, handled by the running consumer (a fake SMS provider answers 201, 400
// or 503; test-mode jobs go to the test sink), then read back through the Admin API.

const TOKEN = "operator-token-for-the-admin-api-test-0123456789";
const OTHER_ORG = `org_${ulid()}`;
const iso = createTestIsolation();
/** Scripted provider answers per destination number (consumed in order, then 201). */
const script = new Map<string, number[]>();
const providerCalls: string[] = [];
let provider: Server;
let nats: TestNats;
let service: RunningService;
let pool: PgPool;

const SENT_1 = "+12025550101";
const SENT_2 = "+12025550102";
const FAILED = "+12025550103";
const RETRYING = "+12025550104";
const OTHER_ORG_NUMBER = "+12025550199";
const TEST_MODE_EMAIL = "kim.admin-test@example.com";
const jobs: Record<string, TestJob> = {};

interface DeliveryBody {
  id: string;
  channel: string;
  destination: string;
  status: string;
  attempts: number;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}
interface ListBody {
  data: DeliveryBody[];
  nextCursor: string | null;
}
interface StatsBody {
  days: Array<{ date: string; sent: number; failed: number; pending: number }>;
  successRate: number | null;
}

function adminHeaders(org: string = ORG_ID, mode: string = "live", token: string = TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}`, "x-organization-id": org, "x-mode": mode };
}

async function getJson<T>(
  path: string,
  headers: Record<string, string> = adminHeaders(),
): Promise<{ status: number; body: T; text: string }> {
  const res = await fetchChecked(`${service.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, text };
}

beforeAll(async () => {
  provider = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const to = form.get("To") ?? "";
      providerCalls.push(to);
      const status = script.get(to)?.shift() ?? 201;
      res.writeHead(status, { "Content-Type": "application/json" });
      if (status === 201) res.end(JSON.stringify({ sid: `SM${ulid()}`, status: "queued" }));
      else res.end(JSON.stringify({ code: status === 400 ? 21211 : 20500, message: `The 'To' number ${to} is not valid.`, status }));
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, "127.0.0.1", () => resolve()));
  nats = await connectTestNats(iso.natsUrl);
  service = await startTestOtpDelivery(
    {
      ...iso.env("otp-delivery"),
      // A transient failure waits 20 s before its retry: long enough to see it pending with its reason.
      DELIVERY_BACKOFF_SECONDS: "20,20,20",
      DELIVERY_MAX_ATTEMPTS: "4",
      DELIVERY_SEND_TIMEOUT_MS: "3000",
      DELIVERY_TRANSPORT: "live",
      SMS_BASE_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}`,
      SMS_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
      SMS_AUTH_TOKEN: "provider-auth-token",
      SMS_FROM: "+15005550006",
      OPERATOR_TOKEN: TOKEN,
      RATE_LIMIT_IP_PER_MINUTE: "300",
    },
    { logger: createLogger({ name: "otp-delivery", level: "silent" }) },
  );
  pool = testPool(iso);

  script.set(FAILED, [400]);
  script.set(RETRYING, [503]);
  jobs.sent1 = otpJob({ channel: "sms", to: SENT_1, country: "US" });
  jobs.sent2 = otpJob({ channel: "sms", to: SENT_2, country: "US" });
  jobs.failed = otpJob({ channel: "sms", to: FAILED, country: "US" });
  jobs.retrying = otpJob({ channel: "sms", to: RETRYING, country: "US" });
  jobs.testMode = otpJob({ channel: "email", to: TEST_MODE_EMAIL }, undefined, "test");
  jobs.otherOrg = otpJob({ channel: "sms", to: OTHER_ORG_NUMBER, country: "US" }, undefined, "live", OTHER_ORG);
  for (const job of Object.values(jobs)) await publishJob(nats.js, iso.subjects, job);
  const want: Record<string, string> = {
    [jobs.sent1.id]: "sent",
    [jobs.sent2.id]: "sent",
    [jobs.failed.id]: "failed",
    [jobs.testMode.id]: "sent",
    [jobs.otherOrg.id]: "sent",
  };
  await waitFor(async () => {
    const rows = await deliveries(pool);
    const settled = Object.entries(want).every(([eventId, status]) => rows.find((r) => r.event_id === eventId)?.status === status);
    const retrying = rows.find((r) => r.event_id === jobs.retrying?.id);
    return settled && retrying?.status === "pending" && retrying.last_error !== null;
  }, 15_000);
}, 30_000);

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await nats?.close();
  await new Promise<void>((resolve) => provider?.close(() => resolve()));
  await iso.cleanup();
});

const rowOf = async (job: TestJob | undefined) => (await deliveries(pool)).find((r) => r.event_id === job?.id);

test("lists the organization's deliveries in the mode it names, newest first, masked, with status, attempts and failure reason", async () => {
  const { status, body, text } = await getJson<ListBody>("/api/v1/otp-deliveries");
  expect(status).toBe(200);
  // Exactly this organization's live deliveries, in the database's newest-first order.
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM deliveries WHERE organization_id = $1 AND mode = 'live' ORDER BY created_at DESC, id DESC`,
    [ORG_ID],
  );
  expect(body.data.map((d) => d.id)).toEqual(rows.map((r) => r.id));
  expect(body.data).toHaveLength(4);
  expect(body.nextCursor).toBeNull();

  const byId = new Map(body.data.map((d) => [d.id, d]));
  const sent = byId.get((await rowOf(jobs.sent1))?.id ?? "");
  expect(sent).toMatchObject({ channel: "sms", destination: "+1202*****01", status: "sent", attempts: 1, failureReason: null });
  expect(new Date(sent?.createdAt ?? "").toISOString()).toBe(sent?.createdAt);

  // The failed delivery shows why (the provider's status and numeric code, never its text).
  const failed = byId.get((await rowOf(jobs.failed))?.id ?? "");
  expect(failed).toMatchObject({
    destination: "+1202*****03",
    status: "failed",
    attempts: 1,
    failureReason: "sms provider answered 400 (code 21211)",
  });
  // A delivery waiting for its retry: pending, with the reason its last attempt failed.
  const retrying = byId.get((await rowOf(jobs.retrying))?.id ?? "");
  expect(retrying).toMatchObject({ status: "pending", attempts: 1, failureReason: "sms provider answered 503 (code 20500)" });

  // No full destination anywhere in the answer, and no code.
  for (const number of [SENT_1, SENT_2, FAILED, RETRYING]) expect(text).not.toContain(number);
  for (const job of Object.values(jobs)) expect(text).not.toContain(job.code);
  expect(providerCalls).toEqual(expect.arrayContaining([SENT_1, SENT_2, FAILED, RETRYING]));
});

test("X-Mode: test lists the test-mode deliveries only (masked email), and live ones never appear there", async () => {
  const { status, body, text } = await getJson<ListBody>("/api/v1/otp-deliveries", adminHeaders(ORG_ID, "test"));
  expect(status).toBe(200);
  expect(body.data).toHaveLength(1);
  expect(body.data[0]).toMatchObject({ channel: "email", destination: "k***@example.com", status: "sent", failureReason: null });
  expect(text).not.toContain(TEST_MODE_EMAIL);
});

test("another organization's deliveries are never listed, whatever the filters or pages", async () => {
  const other = await rowOf(jobs.otherOrg);
  expect(other?.status).toBe("sent");
  for (const query of ["", "?status=sent", "?channel=sms", "?limit=100", "?status=sent&channel=sms&limit=1"]) {
    for (const mode of ["live", "test"]) {
      const { body, text } = await getJson<ListBody>(`/api/v1/otp-deliveries${query}`, adminHeaders(ORG_ID, mode));
      expect(body.data.map((d) => d.id)).not.toContain(other?.id);
      expect(text).not.toContain("+1202*****99");
    }
  }
  // The other organization sees its own delivery only; an organization with none sees nothing.
  const mine = await getJson<ListBody>("/api/v1/otp-deliveries", adminHeaders(OTHER_ORG));
  expect(mine.body.data.map((d) => d.id)).toEqual([other?.id]);
  const nobody = await getJson<ListBody>("/api/v1/otp-deliveries", adminHeaders(`org_${ulid()}`));
  expect(nobody.body).toEqual({ data: [], nextCursor: null });
});

test("filters by status and channel", async () => {
  const failed = await getJson<ListBody>("/api/v1/otp-deliveries?status=failed");
  expect(failed.body.data.map((d) => d.status)).toEqual(["failed"]);
  const sent = await getJson<ListBody>("/api/v1/otp-deliveries?status=sent&channel=sms");
  expect(sent.body.data.map((d) => d.destination).sort()).toEqual(["+1202*****01", "+1202*****02"]);
  const pending = await getJson<ListBody>("/api/v1/otp-deliveries?status=pending");
  expect(pending.body.data.map((d) => d.destination)).toEqual(["+1202*****04"]);
  expect((await getJson<ListBody>("/api/v1/otp-deliveries?channel=email")).body.data).toEqual([]);
});

test("cursor pagination walks every delivery once, in order, and ends with nextCursor null", async () => {
  const all = (await getJson<ListBody>("/api/v1/otp-deliveries")).body.data.map((d) => d.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const path: string = `/api/v1/otp-deliveries?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: { status: number; body: ListBody } = await getJson<ListBody>(path);
    expect(page.status).toBe(200);
    expect(page.body.data.length).toBeLessThanOrEqual(1);
    seen.push(...page.body.data.map((d) => d.id));
    cursor = page.body.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  expect(seen).toEqual(all);
  expect(pages).toBe(4);
  // Pages of 3 with a filter: the cursor keeps the order.
  const first = await getJson<ListBody>("/api/v1/otp-deliveries?limit=3&channel=sms");
  const second = await getJson<ListBody>(`/api/v1/otp-deliveries?limit=3&channel=sms&cursor=${first.body.nextCursor}`);
  expect([...first.body.data, ...second.body.data].map((d) => d.id)).toEqual(all);
  expect(second.body.nextCursor).toBeNull();
  // Another organization's cursor position shows this organization's rows only (the scope is not in the cursor).
  const otherPage = await getJson<ListBody>(`/api/v1/otp-deliveries?cursor=${first.body.nextCursor}`, adminHeaders(OTHER_ORG));
  expect(otherPage.body.data.every((d) => !all.includes(d.id))).toBe(true);
});

test("stats: per UTC day (every day present, oldest first) by status, and the success rate over the window", async () => {
  const today = new Date().toISOString().slice(0, 10);
  const { status, body } = await getJson<StatsBody>("/api/v1/stats/otp-deliveries");
  expect(status).toBe(200);
  expect(body.days).toHaveLength(14);
  expect(body.days.at(-1)).toEqual({ date: today, sent: 2, failed: 1, pending: 1 });
  expect(body.days.slice(0, -1).every((d) => d.sent + d.failed + d.pending === 0)).toBe(true);
  const dates = body.days.map((d) => d.date);
  expect([...dates].sort()).toEqual(dates);
  expect(new Set(dates).size).toBe(14);
  expect(body.successRate).toBeCloseTo(2 / 3, 10);

  // Test mode: its own numbers; another organization: its own; none at all: null rate.
  const test = await getJson<StatsBody>("/api/v1/stats/otp-deliveries?days=1", adminHeaders(ORG_ID, "test"));
  expect(test.body).toEqual({ days: [{ date: today, sent: 1, failed: 0, pending: 0 }], successRate: 1 });
  const other = await getJson<StatsBody>("/api/v1/stats/otp-deliveries?days=1", adminHeaders(OTHER_ORG));
  expect(other.body.days).toEqual([{ date: today, sent: 1, failed: 0, pending: 0 }]);
  const none = await getJson<StatsBody>("/api/v1/stats/otp-deliveries?days=90", adminHeaders(`org_${ulid()}`));
  expect(none.body.days).toHaveLength(90);
  expect(none.body.successRate).toBeNull();
});

test("stats count a delivery on the UTC day it was created, and nothing before the window", async () => {
  // Move the other organization's delivery (a real one) back 3 days, then 20 days.
  const row = await rowOf(jobs.otherOrg);
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
  await pool.query("UPDATE deliveries SET created_at = $2 WHERE id = $1", [row?.id, threeDaysAgo]);
  const stats = await getJson<StatsBody>("/api/v1/stats/otp-deliveries?days=7", adminHeaders(OTHER_ORG));
  const day = stats.body.days.find((d) => d.date === threeDaysAgo.toISOString().slice(0, 10));
  expect(day).toEqual({ date: threeDaysAgo.toISOString().slice(0, 10), sent: 1, failed: 0, pending: 0 });
  expect(stats.body.days.reduce((n, d) => n + d.sent, 0)).toBe(1);
  expect(stats.body.successRate).toBe(1);
  expect((await getJson<StatsBody>("/api/v1/stats/otp-deliveries?days=3", adminHeaders(OTHER_ORG))).body.successRate).toBeNull();
});

test("wrong or missing operator token: 401 (before the scope headers are looked at); right token, headers missing or malformed: 400", async () => {
  const before = await deliveries(pool);
  for (const path of ["/api/v1/otp-deliveries", "/api/v1/stats/otp-deliveries"]) {
    const wrong = await getJson<{ error: string }>(path, adminHeaders(ORG_ID, "live", `${TOKEN}x`));
    expect([wrong.status, wrong.body]).toEqual([401, { error: "Authentication required" }]);
    const none = await getJson<{ error: string }>(path, { "x-organization-id": ORG_ID, "x-mode": "live" });
    expect(none.status).toBe(401);
    // A publishable or secret key is not the operator token.
    const key = await getJson<{ error: string }>(path, adminHeaders(ORG_ID, "live", "sk_live_0123456789abcdefghijklmnop"));
    expect(key.status).toBe(401);
    // Without the token, missing headers still answer 401 (nothing learned about the scope).
    expect((await getJson(path, { authorization: "Bearer nope" })).status).toBe(401);

    const noHeaders = await getJson<{ error: string }>(path, { authorization: `Bearer ${TOKEN}` });
    expect(noHeaders).toMatchObject({ status: 400, body: { error: "validation_error" } });
    for (const headers of [
      adminHeaders("org_not-an-id"),
      adminHeaders(ORG_ID, "LIVE"),
      adminHeaders(ORG_ID, "production"),
      { authorization: `Bearer ${TOKEN}`, "x-mode": "live" },
      { authorization: `Bearer ${TOKEN}`, "x-organization-id": ORG_ID },
    ]) {
      const res = await getJson<{ error: string }>(path, headers);
      expect(res).toMatchObject({ status: 400, body: { error: "validation_error" } });
    }
  }
  expect(await deliveries(pool)).toEqual(before);
});

test("hostile or invalid query values answer 400 validation_error and change nothing", async () => {
  const before = await deliveries(pool);
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const bad = [
    "/api/v1/otp-deliveries?limit=0",
    "/api/v1/otp-deliveries?limit=101",
    "/api/v1/otp-deliveries?limit=abc",
    "/api/v1/otp-deliveries?limit=1.5",
    "/api/v1/otp-deliveries?status=delivered",
    "/api/v1/otp-deliveries?status=sent&status=failed",
    "/api/v1/otp-deliveries?channel=fax",
    "/api/v1/otp-deliveries?state=failed",
    "/api/v1/otp-deliveries?cursor=not-a-cursor",
    `/api/v1/otp-deliveries?cursor=${"A".repeat(201)}`,
    `/api/v1/otp-deliveries?cursor=${forged(["2026-13-01T00:00:00.000000Z", `dlv_${ulid()}`])}`,
    `/api/v1/otp-deliveries?cursor=${forged(["2026-02-30T00:00:00.000000Z", `dlv_${ulid()}`])}`,
    `/api/v1/otp-deliveries?cursor=${forged(["2026-01-01T00:00:00.000000Z", "dlv_x' OR 1=1 --"])}`,
    `/api/v1/otp-deliveries?cursor=${forged({ createdAt: "x" })}`,
    "/api/v1/stats/otp-deliveries?days=0",
    "/api/v1/stats/otp-deliveries?days=91",
    "/api/v1/stats/otp-deliveries?days=-1",
    "/api/v1/stats/otp-deliveries?days=7&days=8",
    "/api/v1/stats/otp-deliveries?since=2026-01-01",
  ];
  for (const path of bad) {
    const res = await getJson<{ error: string }>(path);
    expect([path, res.status, res.body.error]).toEqual([path, 400, "validation_error"]);
  }
  expect(await deliveries(pool)).toEqual(before);
});

test("generated hostile input on both endpoints gets a 4xx {error, message}; valid calls alongside succeed", async () => {
  const headers = { ...adminHeaders(), "x-forwarded-for": "198.51.100.20" };
  const report = await fuzzEndpoints({
    baseUrl: service.url,
    runsPerTarget: 100,
    targets: [
      {
        name: "GET /api/v1/otp-deliveries",
        method: "GET",
        path: "/api/v1/otp-deliveries",
        headers,
        query: ["status", "channel", "limit", "cursor"],
      },
      { name: "GET /api/v1/stats/otp-deliveries", method: "GET", path: "/api/v1/stats/otp-deliveries", headers, query: ["days"] },
    ],
    valid: async () => {
      const res = await fetchChecked(`${service.url}/api/v1/otp-deliveries?limit=2`, {
        headers: { ...adminHeaders(), "x-forwarded-for": "198.51.100.21" },
      });
      if (res.status !== 200) throw new Error(`valid list answered ${res.status}: ${await res.text()}`);
    },
    isErrorBody: isConsumerErrorBody,
  });
  expect(report.hostile).toBe(200);
}, 120_000);

test("answers are never cached, and the document declares both endpoints under Admin API with the operator token", async () => {
  const res = await fetchChecked(`${service.url}/api/v1/otp-deliveries`, { headers: adminHeaders() });
  expect(res.headers.get("cache-control")).toBe("no-store");
  const doc = (await (await fetchChecked(`${service.url}/openapi.json`)).json()) as {
    paths: Record<string, { get?: { tags?: string[]; security?: unknown[]; "x-error-codes"?: Record<string, string[]> } }>;
  };
  for (const path of ["/api/v1/otp-deliveries", "/api/v1/stats/otp-deliveries"]) {
    const op = doc.paths[path]?.get;
    expect(op?.tags).toEqual(["Admin API"]);
    expect(op?.security).toEqual([{ otpOperatorToken: [] }]);
    expect(op?.["x-error-codes"]?.["401"]).toEqual(["Authentication required"]);
    expect(op?.["x-error-codes"]?.["429"]).toEqual(["rate_limited"]);
  }
});

test("rate limited per client IP (RATE_LIMIT_IP_PER_MINUTE), before the token is checked: guessing it is throttled", async () => {
  const ip = "203.0.113.77";
  const guess = (n: number) =>
    fetch(`${service.url}/api/v1/otp-deliveries`, { headers: { ...adminHeaders(ORG_ID, "live", `guess-${n}`), "x-forwarded-for": ip } });
  const statuses: number[] = [];
  for (let i = 0; i < 300; i += 50)
    statuses.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => guess(i + j)))).map((r) => r.status));
  expect(statuses.every((s) => s === 401)).toBe(true);
  const refused = await fetchChecked(`${service.url}/api/v1/otp-deliveries`, { headers: { ...adminHeaders(), "x-forwarded-for": ip } });
  expect(refused.status).toBe(429);
  expect(await refused.json()).toMatchObject({ error: "rate_limited" });
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  // Another client is not affected.
  const other = await fetchChecked(`${service.url}/api/v1/otp-deliveries`, {
    headers: { ...adminHeaders(), "x-forwarded-for": "203.0.113.78" },
  });
  expect(other.status).toBe(200);
});

test("OPERATOR_TOKEN: the development default outside production; production needs one of at least 32 characters", () => {
  expect(parseEnv(Env, {}).OPERATOR_TOKEN).toBe("dev-operator-token");
  const prod = {
    NODE_ENV: "production",
    OTP_SEAL_PRIVATE_KEY: generateSealKeyPair().privateKey,
    NATS_USER: "otp-delivery",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
  };
  expect(() => parseEnv(Env, prod)).toThrow(/OPERATOR_TOKEN/);
  expect(() => parseEnv(Env, { ...prod, OPERATOR_TOKEN: "short" })).toThrow(ConfigError);
  expect(parseEnv(Env, { ...prod, OPERATOR_TOKEN: TOKEN }).OPERATOR_TOKEN).toBe(TOKEN);
});
