/**
 * The API reference in a real browser (issue 11): Debian's headless Chromium (playwright-core)
 * opens the development gateway's `/docs`, the page rendered from the MERGED OpenAPI document of
 * the real built services (child processes, as under `npm start`). Asserted: the merged document
 * holds exactly the routed paths of every service that serves a document; the page shows one entry
 * per operation, with its styles applied, loading nothing but itself. A full-page screenshot is
 * kept as a test artifact: infra/e2e/artifacts/docs.png, and the first screen as docs-viewport.png
 * (gitignored).
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { chromiumLaunchOptions } from "@authplane/service-kit/testing";
import { type Browser, chromium } from "playwright-core";
// The development gateway's routing table (test-only import).
import { serviceOf } from "../../gateway/src/main.js";
import { root, type Stack, startStack } from "../src/stack.mjs";

const ARTIFACTS = path.join(root, "infra/e2e/artifacts");
const SERVICES = ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"] as const;
const GATEWAY_NAME: Record<string, string> = {
  consumer: "consumer-auth",
  admin: "admin-key",
  otp: "otp-delivery",
  webauthn: "webauthn-credential",
};

jest.setTimeout(180_000);

let stack: Stack;
let browser: Browser;

interface Doc {
  info: { title: string };
  paths: Record<string, Record<string, { operationId: string; summary: string }>>;
}

beforeAll(async () => {
  stack = await startStack({ services: [...SERVICES], gateway: true });
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test("the gateway merges the services' own documents: each service's routed paths, nothing else", async () => {
  const expected = new Set<string>();
  const documented: string[] = [];
  for (const name of SERVICES) {
    const res = await fetch(`${stack.urls[name]}/openapi.json`);
    if (res.status !== 200) continue; // a service not converted to the endpoint builder yet
    documented.push(name);
    const doc = (await res.json()) as Doc;
    for (const [p, item] of Object.entries(doc.paths)) {
      const owner = serviceOf(p);
      if (owner && GATEWAY_NAME[owner] === name) for (const m of Object.keys(item)) expected.add(`${m.toUpperCase()} ${p}`);
    }
  }
  expect(documented).toContain("webauthn-credential");
  const merged = (await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()) as Doc;
  const got = Object.entries(merged.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
  expect(got.sort()).toEqual([...expected].sort());
  expect(got).toEqual(expect.arrayContaining(["POST /attestation/options", "POST /auth/verify", "POST /credential/find"]));
});

test("/docs renders the merged document in Chromium: one entry per operation, styled, self-contained; screenshot kept", async () => {
  const merged = (await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()) as Doc;
  const operations = Object.values(merged.paths).flatMap((item) => Object.values(item));
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  page.on("request", (r) => requested.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));

  const res = await page.goto(`${stack.gatewayUrl}/docs`, { waitUntil: "load" });
  expect(res?.status()).toBe(200);
  expect(await page.title()).toBe("authplane — API reference");
  expect(await page.locator("article").count()).toBe(operations.length);
  for (const op of operations) {
    const entry = page.locator(`article[id="${op.operationId.replace(/[^A-Za-z0-9_-]+/g, "-")}"]`);
    await expect(entry.locator(".summary").textContent()).resolves.toBe(op.summary);
  }
  await expect(page.locator("article", { hasText: "/assertion/process" }).first().isVisible()).resolves.toBe(true);
  // The inline stylesheet applied (the gateway's CSP allows inline styles only): the navigation sticks.
  await expect(page.locator("nav").evaluate((el) => getComputedStyle(el).position)).resolves.toBe("sticky");
  // Nothing but the page itself was loaded (no CDN, no script, no font), and nothing failed.
  expect(requested).toEqual([`${stack.gatewayUrl}/docs`]);
  expect(problems).toEqual([]);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "docs-viewport.png") });
  const file = path.join(ARTIFACTS, "docs.png");
  await page.screenshot({ path: file, fullPage: true });
  const png = readFileSync(file);
  // A PNG, 1280 px wide, taller than the viewport (every operation on one page).
  expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
  expect(png.readUInt32BE(16)).toBe(1280);
  expect(png.readUInt32BE(20)).toBeGreaterThan(900);
  expect(statSync(file).size).toBeGreaterThan(20_000);
  await context.close();
});
