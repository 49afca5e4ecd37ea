import type { AddressInfo } from "node:net";
import { createHttpApp } from "../src/http.js";
import { installGracefulShutdown } from "../src/lifecycle.js";
import { createLogger } from "../src/logger.js";
import { createMetrics } from "../src/metrics.js";
import { captureLogs } from "../src/testing/index.js";

// Its own file: the drain state is the process's (a draining process is draining everywhere).
test("readiness answers 503 as soon as a drain starts, while requests are still served", async () => {
  const logs = captureLogs();
  const logger = createLogger({ name: "t", level: "info", destination: logs.stream });
  const { app, finish } = createHttpApp({
    logger,
    metrics: createMetrics("t", { defaultMetrics: false }),
    readiness: { db: async () => {} },
    trustProxy: false,
  });
  finish({ body: (e) => ({ error: e.code }) });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  // A delay long enough for the two requests below: the listener stays open meanwhile.
  const shutdown = installGracefulShutdown({ logger, server, graceMs: 1_000, delayMs: 2_000, closers: [] });
  const drained = shutdown();
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: "draining", checks: {} });
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  await drained;
  await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  process.removeAllListeners("SIGTERM");
  process.removeAllListeners("SIGINT");
});
