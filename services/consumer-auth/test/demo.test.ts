/**
 * The consumer demo page (/demo/consumer/) over plain HTTP: served with the SDK bundle and the
 * configured publishable key in development, absent (404 in the API's format) when disabled, and
 * impossible to enable in production. The page itself is driven in Chromium by
 * infra/e2e/test/consumer-browser.e2e.test.ts.
 */
import { readFileSync } from "node:fs";
import { generateSealKeyPair } from "@authplane/service-kit";
import { createTestIsolation } from "@authplane/service-kit/testing";
import { Env } from "../src/env.js";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { request } from "./helpers.js";

const iso = createTestIsolation();
let enabled: ConsumerAuthForTest;
let disabled: ConsumerAuthForTest;

beforeAll(async () => {
  enabled = await startConsumerAuthForTest(iso, { env: { DEMO_ENABLED: "true", DEMO_PUBLISHABLE_KEY: "pk_test_demo123" } });
  disabled = await startConsumerAuthForTest(iso, { env: { DEMO_ENABLED: "false", DEMO_PUBLISHABLE_KEY: "pk_test_demo123" } });
});

afterAll(async () => {
  await Promise.all([enabled?.stop(), disabled?.stop()]);
  await iso.cleanup();
});

test("/demo/consumer redirects to the page, which loads the SDK bundle from /demo/consumer/sdk.js", async () => {
  const http = request(enabled.app);
  const redirect = await http.get("/demo/consumer");
  expect([301, 302, 308]).toContain(redirect.status);
  expect(redirect.headers.location).toBe("/demo/consumer/");
  const page = await http.get("/demo/consumer/");
  expect(page.status).toBe(200);
  expect(page.headers["content-type"]).toMatch(/^text\/html/);
  expect(page.text).toContain('<script type="module" src="/demo/consumer/demo.js">');
  // The page may call an API on another origin (to try CORS); everything else stays 'self'.
  expect(page.headers["content-security-policy"]).toContain("connect-src 'self' http: https:");
  expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
  const script = await http.get("/demo/consumer/demo.js");
  expect(script.status).toBe(200);
  expect(script.text).toContain('from "/demo/consumer/sdk.js"');
  // Its stylesheets: the kit's shared demo.css and the page's own page.css.
  for (const sheet of ["demo.css", "page.css"]) {
    expect(page.text).toContain(`<link rel="stylesheet" href="/demo/consumer/${sheet}" />`);
    const css = await http.get(`/demo/consumer/${sheet}`);
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
  }
  expect((await http.get("/demo/consumer/demo.css")).text).toContain("font-family");
  const sdk = await http.get("/demo/consumer/sdk.js");
  expect(sdk.status).toBe(200);
  expect(sdk.headers["content-type"]).toMatch(/javascript/);
  const built = readFileSync(new URL("../../../packages/consumer-browser/dist/consumer-browser.bundle.js", import.meta.url), "utf8");
  expect(sdk.text).toBe(built);
  expect(sdk.text).toContain("X-Publishable-Key");
});

test("/demo/consumer/config gives the configured publishable key and the page's own origin as API", async () => {
  const res = await request(enabled.app).get("/demo/consumer/config");
  expect(res.status).toBe(200);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.body).toEqual({ publishableKey: "pk_test_demo123", baseUrl: "" });
});

test("disabled: every demo path is a 404 in the API's error format, the API itself unaffected", async () => {
  for (const path of ["/demo/consumer/", "/demo/consumer/config", "/demo/consumer/sdk.js", "/demo/consumer/demo.js"]) {
    const res = await request(disabled.app).get(path);
    expect(res.status).toBe(404);
    expect(typeof res.body.error).toBe("string");
  }
  expect((await request(disabled.app).get("/.well-known/jwks.json")).status).toBe(200);
});

test("production: off by default, and DEMO_ENABLED=true refuses to start", () => {
  const secrets = {
    ...iso.env("consumer-auth"),
    NODE_ENV: "production",
    SIGNING_KEY_ENCRYPTION_KEY: "x".repeat(40),
    OTP_CODE_SECRET: "y".repeat(40),
    OTP_SEAL_PUBLIC_KEY: generateSealKeyPair().publicKey,
    OPERATOR_TOKEN: "o".repeat(40),
  };
  expect(Env.parse(secrets).DEMO_ENABLED).toBe(false);
  expect(Env.parse({ ...secrets, NODE_ENV: "development" }).DEMO_ENABLED).toBe(true);
  const refused = Env.safeParse({ ...secrets, DEMO_ENABLED: "true" });
  expect(refused.success).toBe(false);
  expect(JSON.stringify(refused.error?.issues)).toContain("DEMO_ENABLED");
});
