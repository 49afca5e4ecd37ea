import { fuzzEndpoints, createTestIsolation, isConsumerErrorBody } from "@authplane/service-kit/testing";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { fastDelivery } from "./support/jobs.js";
import { fetchChecked } from "./support/harness.js";

// Issue 10 items 7 and 8 for otp-delivery's one HTTP endpoint that takes input (the dev outbox).

const iso = createTestIsolation();
let service: RunningService;

beforeAll(async () => {
  service = await startTestOtpDelivery({ ...iso.env("otp-delivery"), ...fastDelivery() });
});
afterAll(async () => {
  await service?.stop();
  await iso.cleanup();
});

test("no generated bad input on /dev/outbox gets a 5xx; each is a 4xx {error, message}; valid lookups alongside succeed", async () => {
  const report = await fuzzEndpoints({
    baseUrl: service.url,
    runsPerTarget: 200,
    targets: [
      { name: "GET /dev/outbox", method: "GET", path: "/dev/outbox", query: ["to"] },
      { name: "GET /dev/outbox/:x", method: "GET", path: "/dev/outbox/:x", params: { x: "y" } },
    ],
    valid: async () => {
      const res = await fetchChecked(`${service.url}/dev/outbox?to=kim%40example.com`);
      if (res.status !== 200) throw new Error(`valid lookup answered ${res.status}: ${await res.text()}`);
    },
    isErrorBody: isConsumerErrorBody,
  });
  expect(report.hostile).toBe(2 * 200);
  expect(report.valid).toBe(2 * 200);
}, 120_000);

test("the dev outbox (it shows OTP codes) is never cached", async () => {
  const res = await fetchChecked(`${service.url}/dev/outbox?to=kim%40example.com`);
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("pragma")).toBe("no-cache");
});
