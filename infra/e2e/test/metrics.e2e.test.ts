/**
 * Operations metrics (issue 12 item 5) on the real built services: /metrics answers on each
 * service's METRICS_PORT and not on its public port; the domain metrics move when the things they
 * count happen; and every metric the Grafana dashboard (infra/grafana/) queries exists in some
 * service's /metrics output, so the dashboard cannot silently show "no data" for a misspelt name.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createOrganization, root, type Stack, startStack } from "../src/stack.mjs";

const SERVICES = ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"];
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ services: SERVICES, readyTimeoutMs: 90_000, env: { "otp-delivery": { DELIVERY_TRANSPORT: "dev" } } });
}, 150_000);
afterAll(async () => {
  await stack?.stop();
});

async function scrape(service: string): Promise<string> {
  const res = await fetch(`${stack.metricsUrls[service]}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels}`, labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[2]);
  }
  return undefined;
}

async function eventually(fn: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("/metrics is on METRICS_PORT only", async () => {
  for (const service of SERVICES) {
    expect((await fetch(`${stack.urls[service]}/metrics`)).status).toBe(404);
    expect(await scrape(service)).toContain("# TYPE http_requests_total counter");
  }
});

test("an OTP request moves the OTP, key-cache and delivery metrics", async () => {
  const { keys } = await createOrganization(stack.urls["admin-key"] as string, stack.operatorToken, "Metrics Co");
  const before = await scrape("consumer-auth");
  expect(sample(before, "otp_requested_total", { channel: "email" })).toBe(0);
  const res = await fetch(`${stack.urls["consumer-auth"]}/api/v1/auth/otp/request`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-publishable-key": keys.publishable.live },
    body: JSON.stringify({ email: "metrics@example.com" }),
  });
  expect(res.status).toBe(200);
  const after = await scrape("consumer-auth");
  expect(sample(after, "otp_requested_total", { channel: "email" })).toBe(1);
  expect(sample(after, "otp_requested_total", { channel: "sms" })).toBe(0);
  // The first check of this key asked admin-key.
  expect(sample(after, "key_cache_lookups_total", { result: "miss" })).toBeGreaterThanOrEqual(1);
  await eventually(
    async () => sample(await scrape("otp-delivery"), "otp_delivery_attempts_total", { channel: "email", outcome: "sent" }) === 1,
    "otp_delivery_attempts_total{channel=email,outcome=sent} 1",
  );
  const delivery = await scrape("otp-delivery");
  expect(sample(delivery, "otp_delivery_attempts_total", { channel: "email", outcome: "failed" })).toBe(0);
  // Read at scrape time from JetStream and from the outbox table: present, and drained.
  expect(sample(delivery, "jetstream_consumer_pending")).toBe(0);
  await eventually(async () => sample(await scrape("otp-delivery"), "outbox_backlog") === 0, "an empty outbox");
  expect(sample(delivery, "outbox_oldest_age_seconds")).toBeGreaterThanOrEqual(0);
});

test("every metric the Grafana dashboard queries exists in some service's /metrics", async () => {
  const dashboard = JSON.parse(readFileSync(path.join(root, "infra/grafana/authplane-dashboard.json"), "utf8")) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  expect(exprs.length).toBeGreaterThan(10);
  const names = new Set<string>();
  for (const expr of exprs) {
    const bare = expr
      .replace(/\{[^}]*\}/g, "") // label matchers
      .replace(/\b(by|without)\s*\([^)]*\)/g, "") // grouping labels
      .replace(/\[[^\]]*\]/g, ""); // ranges
    // Identifiers not followed by "(" are metric names (functions and aggregations are).
    for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g))
      if (!m[2] && !/^\d/.test(m[1] as string)) names.add(m[1] as string);
  }
  expect(names.size).toBeGreaterThan(10);
  const texts = await Promise.all(SERVICES.map(scrape));
  const declared = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1] as string)));
  const missing = [...names].filter((n) => !declared.has(n) && !declared.has(n.replace(/_(bucket|sum|count)$/, "")));
  expect(missing).toEqual([]);
});
