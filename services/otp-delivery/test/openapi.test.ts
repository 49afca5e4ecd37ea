import { createLogger } from "@authplane/service-kit";
import { createTestIsolation, expectRoutesMatchDocument, routeCoverage } from "@authplane/service-kit/testing";
import { createApp, otpDeliveryOpenApi } from "../src/app.js";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { fastDelivery } from "./support/jobs.js";
import { fetchChecked, validator } from "./support/harness.js";

// Issue 11 item 4: the document is generated from the endpoint declarations, names exactly the
// app's routes (the dev outbox only when it is mounted), is served at /openapi.json and /docs.

const iso = createTestIsolation();
let service: RunningService;

beforeAll(async () => {
  service = await startTestOtpDelivery(
    { ...iso.env("otp-delivery"), ...fastDelivery() },
    { logger: createLogger({ name: "otp-delivery", level: "silent" }) },
  );
});
afterAll(async () => {
  await service?.stop();
  await iso.cleanup();
});

test("the document names exactly the app's routes, with and without the dev outbox", () => {
  expectRoutesMatchDocument(createApp(service.deps), otpDeliveryOpenApi({ devOutbox: true }));
  // With a real transport (no dev outbox) the app and its document have no /dev/outbox.
  const live = { ...service.deps.env, DELIVERY_TRANSPORT: "live" as const };
  expectRoutesMatchDocument(createApp({ ...service.deps, env: live }), otpDeliveryOpenApi({ devOutbox: false }));
  // A document of the other configuration does not match: the check can fail.
  expect(routeCoverage(createApp(service.deps), otpDeliveryOpenApi({ devOutbox: false })).missingFromDocument).toEqual(["GET /dev/outbox"]);
});

test("GET /openapi.json and /docs serve the document", async () => {
  const res = await fetchChecked(`${service.url}/openapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { "x-error-codes"?: Record<string, string[]> }>>;
  };
  expect(doc).toEqual(JSON.parse(JSON.stringify(otpDeliveryOpenApi({ devOutbox: true }))));
  expect(doc.openapi).toBe("3.1.0");
  expect(doc.paths["/dev/outbox"]?.get?.["x-error-codes"]?.["400"]).toEqual(
    expect.arrayContaining(["invalid_recipient", "validation_error"]),
  );
  const docs = await fetchChecked(`${service.url}/docs`);
  expect(docs.status).toBe(200);
  expect(await docs.text()).toContain("/dev/outbox");
});

test("the harness validates responses against the document", async () => {
  const before = validator.checked;
  expect((await fetchChecked(`${service.url}/dev/outbox?to=kim%40example.com`)).status).toBe(200);
  expect((await fetchChecked(`${service.url}/dev/outbox?to=nobody`)).status).toBe(400);
  expect(validator.checked - before).toBe(2);
  expect(
    validator.problems("get", "/dev/outbox", { status: 200, headers: { "content-type": "application/json" }, body: { messages: [{}] } }),
  ).not.toEqual([]);
});
