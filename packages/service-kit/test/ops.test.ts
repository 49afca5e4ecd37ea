import express from "express";
import request from "supertest";
import { createHttpApp } from "../src/http.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { serveMetrics } from "../src/ops-metrics.js";
import { RateLimit } from "../src/rate-limit.js";
import { createRedis, type Redis } from "../src/redis.js";
import { captureLogs, createTestIsolation, TEST_REDIS_URL } from "../src/testing/index.js";

const iso = createTestIsolation();
let redis: Redis;
beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, iso.redisPrefix, { name: "ops-test" });
});
afterAll(async () => {
  redis.disconnect();
  await iso.cleanup();
});

function app() {
  const logs = captureLogs();
  const logger = createLogger({ name: "t", level: "info", destination: logs.stream });
  const metrics = createMetrics("t", { defaultMetrics: false });
  const { app, finish } = createHttpApp({ logger, metrics, readiness: {}, trustProxy: false });
  const limit = new RateLimit(redis, { name: "otp-request-ip", points: 1, durationSeconds: 60 });
  const r = express.Router();
  r.post("/otp/verify/:consumerId", async (req, res) => {
    // A line written deep inside the handler, after awaits, carries the request id too.
    await new Promise((done) => setTimeout(done, 5));
    logger.info({ step: "checked" }, "verifying");
    res.json({ ok: true, consumerId: req.params.consumerId });
  });
  r.post("/limited", async (_req, res) => {
    await limit.consume("client-1");
    res.json({ ok: true });
  });
  app.use(r);
  return { app: finish({ body: (e) => ({ error: e.code }) }), logs, metrics, logger };
}

const flush = () => new Promise((r) => setTimeout(r, 30));

test("access log: one info line per request, with the request id and route pattern; no code, token, key, query or authorization", async () => {
  const { app: a, logs } = app();
  const res = await request(a)
    .post("/otp/verify/cons_SECRETID123?code=918273&token=tok_querysecret")
    .set("Authorization", "Bearer sk_test_authsecret")
    .set("X-Publishable-Key", "pk_test_keysecret")
    .set("X-Request-Id", "req-from-gateway-1")
    .send({ code: "564738", refreshToken: "rt_bodysecret" });
  expect(res.status).toBe(200);
  expect(res.headers["x-request-id"]).toBe("req-from-gateway-1");
  await flush();
  const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const access = lines.filter((l) => l.msg === "request");
  expect(access).toHaveLength(1);
  expect(access[0]).toMatchObject({
    level: 30,
    reqId: "req-from-gateway-1",
    method: "POST",
    route: "/otp/verify/:consumerId",
    status: 200,
  });
  // The handler's own line carries the request id although it never passed it.
  expect(lines.find((l) => l.msg === "verifying")).toMatchObject({ reqId: "req-from-gateway-1", step: "checked" });
  for (const secret of ["SECRETID123", "918273", "tok_querysecret", "sk_test_authsecret", "pk_test_keysecret", "564738", "rt_bodysecret"])
    expect(logs.text()).not.toContain(secret);
});

test("a malformed X-Request-Id is replaced by a fresh one", async () => {
  const { app: a, logs } = app();
  const res = await request(a).post("/otp/verify/x").set("X-Request-Id", "bad id; with <spaces>").send({});
  expect(res.headers["x-request-id"]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  await flush();
  expect(logs.text()).toContain(res.headers["x-request-id"]);
});

test("metrics are served on their own port only, and a 429 is counted under the limit that refused it", async () => {
  const { app: a, metrics, logger } = app();
  expect((await request(a).post("/limited").send({})).status).toBe(200);
  expect((await request(a).post("/limited").send({})).status).toBe(429);
  expect((await request(a).get("/metrics")).status).toBe(404);
  const server = await serveMetrics({ metrics, port: 0, host: "127.0.0.1", logger });
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/rate_limit_refusals_total\{limit="otp-request-ip",service="t"\} 1/);
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/limited",status="429",service="t"\} 1/);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(404);
  } finally {
    await server.close();
  }
});
