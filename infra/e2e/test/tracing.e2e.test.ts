/**
 * Tracing end to end (issue 12 item 4): the built services and the gateway run with the tracing
 * preload and OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector this test runs, which keeps
 * every exported span in memory. One `POST /api/v1/auth/otp/request` through the gateway must be
 * ONE trace: gateway -> consumer-auth (HTTP, Redis, the NATS key check answered by admin-key with
 * its Postgres query) -> JetStream -> otp-delivery's consumer (Postgres) -> the outbox relay's
 * publish of the delivery event. And the request id sent by the client is on the log lines of
 * consumer-auth and otp-delivery.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createOrganization, type Stack, startStack } from "../src/stack.mjs";

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: the "in-memory exporter" of this multi-process test. */
function startCollector(): Promise<{ url: string; spans: CollectedSpan[]; close(): Promise<void> }> {
  const spans: CollectedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans: Array<{
              spans: Array<{
                traceId: string;
                spanId: string;
                parentSpanId?: string;
                name: string;
                kind: number;
                attributes?: Array<{ key: string; value: Record<string, unknown> }>;
              }>;
            }>;
          }>;
        };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "?";
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? "",
                name: s.name,
                kind: s.kind,
                attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])),
              });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** `db.system.name` (current semantic conventions) or `db.system` (older). */
const dbSystem = (s: CollectedSpan) => s.attributes["db.system.name"] ?? s.attributes["db.system"];

let stack: Stack;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  collector = await startCollector();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "200" };
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery"],
    gateway: true,
    logLevel: "info",
    keepOutput: true,
    readyTimeoutMs: 90_000,
    env: { "admin-key": otel, "consumer-auth": otel, "otp-delivery": { ...otel, DELIVERY_TRANSPORT: "dev" }, gateway: otel },
  });
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  await collector?.close();
});

async function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; spans received:\n${collector.spans.map((s) => `${s.traceId.slice(0, 8)} ${s.service} ${s.kind} ${s.name} ${JSON.stringify(s.attributes).slice(0, 200)}`).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("POST /otp/request is one trace from the gateway to the delivery, and its request id is in every service's log", async () => {
  const { keys } = await createOrganization(stack.gatewayUrl, stack.operatorToken, "Trace Co");
  const requestId = `trace-e2e-${randomBytes(6).toString("hex")}`;
  const res = await fetch(`${stack.gatewayUrl}/api/v1/auth/otp/request`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-publishable-key": keys.publishable.live, "x-request-id": requestId },
    body: JSON.stringify({ email: "trace@example.com" }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-request-id")).toBe(requestId);

  const { spans } = collector;
  // consumer-auth's server span names the route; its trace is the request's.
  const caSpan = await waitFor(
    () => spans.find((s) => s.service === "consumer-auth" && s.kind === 2 && s.name === "POST /api/v1/auth/otp/request"),
    "consumer-auth's server span",
  );
  const root = await waitFor(
    () => spans.find((s) => s.traceId === caSpan.traceId && !s.parentSpanId),
    "the root span of the request's trace",
  );
  expect(root).toMatchObject({ service: "gateway", kind: 2 });
  const inTrace = () => spans.filter((s) => s.traceId === root.traceId);
  // The delivery's outcome event, published by otp-delivery's outbox relay, closes the chain.
  await waitFor(
    () => inTrace().find((s) => s.service === "otp-delivery" && s.kind === 4 && /^publish .*otp/.test(s.name)),
    "the outbox relay's publish of the delivery event in the same trace",
  );
  // Let the last batches arrive.
  await new Promise((r) => setTimeout(r, 1_000));
  const trace = inTrace();
  const by = (service: string, pred: (s: CollectedSpan) => boolean) => trace.filter((s) => s.service === service && pred(s));

  // Every hop is in it.
  const gatewayClient = by("gateway", (s) => s.kind === 3);
  expect(gatewayClient.map((s) => s.attributes["url.full"])).toEqual([expect.stringMatching(/\/api\/v1\/auth\/otp\/request$/)]);
  expect(caSpan.parentSpanId).toBe(gatewayClient[0]?.spanId);
  expect(
    by("consumer-auth", (s) => String(s.name).startsWith("request handler") || String(s.name).startsWith("middleware")),
  ).not.toHaveLength(0); // express
  expect(by("consumer-auth", (s) => dbSystem(s) === "redis")).not.toHaveLength(0); // ioredis
  expect(by("consumer-auth", (s) => s.kind === 3 && /^send .*keys/.test(s.name))).toHaveLength(1); // NATS request
  expect(by("admin-key", (s) => s.kind === 5 && /^process .*keys/.test(s.name))).toHaveLength(1); // NATS reply side
  expect(by("admin-key", (s) => dbSystem(s) === "postgresql")).not.toHaveLength(0); // pg under Prisma
  expect(by("consumer-auth", (s) => s.kind === 4 && /^publish .*otp/.test(s.name))).toHaveLength(1); // JetStream publish
  // JetStream consumer (a redelivery, if the machine was slow to ack, is a second span in the same trace).
  expect(by("otp-delivery", (s) => s.kind === 5 && /^process .*otp/.test(s.name))).not.toHaveLength(0);
  expect(by("otp-delivery", (s) => dbSystem(s) === "postgresql")).not.toHaveLength(0);

  // One connected tree: one root (the gateway's server span), every other span's parent in it.
  const ids = new Set(trace.map((s) => s.spanId));
  expect(trace.filter((s) => !s.parentSpanId)).toEqual([root]);
  expect(trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => `${s.service} ${s.name}`)).toEqual([]);
  // No other trace holds this request's work.
  const keySpansElsewhere = spans.filter(
    (s) => s.traceId !== root.traceId && s.service === "otp-delivery" && /^process .*otp/.test(s.name),
  );
  expect(keySpansElsewhere).toHaveLength(0);

  // The request id reached consumer-auth (access line) and, over JetStream, otp-delivery.
  await new Promise((r) => setTimeout(r, 300));
  expect(stack.allOutput("consumer-auth")).toContain(`"reqId":"${requestId}"`);
  expect(stack.allOutput("otp-delivery")).toMatch(
    new RegExp(`"reqId":"${requestId}".*"msg":"otp job handled"|"msg":"otp job handled".*"reqId":"${requestId}"`),
  );
});
