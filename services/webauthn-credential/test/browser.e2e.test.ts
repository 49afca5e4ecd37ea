/**
 * End to end through a real browser: Debian's headless Chromium (playwright-core) with a CDP
 * virtual authenticator drives the demo page, which uses the browser SDK bundle against the
 * client API and the demo backend against the server API, all on one real HTTP listener.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AdminKeyTestHandle, startAdminKeyForTest } from "@authplane/admin-key/testing";
import { chromiumLaunchOptions, createTestIsolation } from "@authplane/service-kit/testing";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { type Browser, type CDPSession, chromium, type Page } from "playwright-core";
// The development gateway of `npm start` (test-only import; it has no dependencies).
import { createGateway } from "../../../infra/gateway/src/main.js";
import { startWebauthnForTest } from "../src/testing.js";

jest.setTimeout(90_000);

const SDK_VERSION = (
  JSON.parse(readFileSync(new URL("../../../packages/passkeys-browser/package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let svc: Awaited<ReturnType<typeof startWebauthnForTest>>;
let server: Server;
let base: string;
let gateway: Server;
let gatewayBase: string;
let keys: { pk: string; sk: string };
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
/** Client-API requests the page made: path and headers as sent by the SDK. */
const sdkRequests: Array<{ path: string; headers: Record<string, string>; target: string }> = [];

beforeAll(async () => {
  // Listen first: the organization's allowed origin must name the port.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://localhost:${port}`;
  const unused = "http://127.0.0.1:9";
  gateway = createGateway({ targets: { consumer: unused, admin: unused, otp: unused, webauthn: `http://127.0.0.1:${port}` } });
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  gatewayBase = `http://localhost:${(gateway.address() as AddressInfo).port}`;

  admin = await startAdminKeyForTest(iso);
  const org = await admin.createOrganization({
    name: "Demo",
    webauthn: { rpId: "localhost", rpName: "Demo", origins: [base, gatewayBase] },
  });
  keys = { pk: org.keys.publishable.test, sk: org.keys.secret.test };
  svc = await startWebauthnForTest(iso, {
    env: { DEMO_ENABLED: "true", DEMO_PUBLISHABLE_KEY: keys.pk, DEMO_SECRET_KEY: keys.sk },
  });
  server.on("request", svc.app);

  browser = await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext();
  page = await context.newPage();
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (/^\/(attestation|assertion)\//.test(url.pathname)) {
      sdkRequests.push({ path: url.pathname, headers: req.headers(), target: url.origin });
    }
  });
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const added = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  authenticatorId = added.authenticatorId;
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
  gateway?.closeAllConnections();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await svc?.stop();
  await admin?.stop();
  await iso.cleanup();
});

async function serverApi(path: string, body: unknown): Promise<{ status: number; body: { result: unknown; errors?: unknown[] } }> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`:${keys.sk}`).toString("base64")}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result: unknown; errors?: unknown[] } };
}

/** Waits until the result box shows the answer of `label`'s call, then parses it. */
async function resultOf(label: string): Promise<{ label: string; answer: Record<string, unknown> }> {
  await page.waitForFunction((l) => document.getElementById("result-label")?.textContent?.includes(l), label, {
    timeout: 20_000,
  });
  // The answer may come from a ceremony still running (or from autofill); wait until the page's
  // own flow has finished so the next step cannot interleave with it.
  await settled();
  const text = await page.locator("#result").textContent();
  const heading = (await page.locator("#result-label").textContent()) ?? "";
  return { label: heading, answer: JSON.parse(text ?? "null") as Record<string, unknown> };
}

/** Waits until no modal ceremony of the page is running (the form is not busy). */
async function settled(): Promise<void> {
  await page.waitForFunction(() => document.getElementById("passkey-form")?.getAttribute("aria-busy") === "false", null, {
    timeout: 20_000,
  });
}

/** Waits until the status line contains `text`. */
async function statusContains(text: string): Promise<void> {
  await page.waitForFunction((t) => document.getElementById("status")?.textContent?.includes(t), text, {
    timeout: 20_000,
  });
}

/** Clears the result box so the next answer cannot be confused with the previous one. */
async function clearResult(): Promise<void> {
  await page.evaluate(() => {
    const label = document.getElementById("result-label");
    const box = document.getElementById("result");
    if (label) label.textContent = "";
    if (box) box.textContent = "";
  });
}

test("create a passkey, sign in with it by username and usernameless, verified by the server API", async () => {
  await page.goto(`${base}/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await expect(page.locator("#username").getAttribute("autocomplete")).resolves.toBe("username webauthn");

  // Register: SDK -> /attestation/* -> virtual authenticator -> demo backend -> /registration/attach.
  await page.fill("#username", "ada");
  await page.click("#register");
  const attached = await resultOf("/registration/attach");
  expect(attached.label).toContain("HTTP 200");
  const credentialId = (attached.answer.result as { id: string }).id;
  expect(credentialId).toMatch(/^ctl_/);
  await expect(page.locator("#status").textContent()).resolves.toContain(`Passkey ${credentialId} created for ada`);

  // The authenticator really holds a discoverable credential for rp "localhost".
  const stored = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(stored.credentials).toHaveLength(1);
  expect(stored.credentials[0]?.rpId).toBe("localhost");
  expect(stored.credentials[0]?.isResidentCredential).toBe(true);

  // Sign in by username: /assertion/* -> demo backend -> /auth/verify.
  await clearResult();
  await page.click("#sign-in");
  const verified = await resultOf("/auth/verify");
  expect(verified.label).toContain("HTTP 200");
  expect(verified.answer).toMatchObject({ result: { user: { id: "ada" } } });
  await expect(page.locator("#status").textContent()).resolves.toContain("Signed in (username) as user ada");

  // Usernameless (discoverable credential, no allowCredentials).
  await clearResult();
  await page.fill("#username", "");
  await page.click("#sign-in");
  const usernameless = await resultOf("/auth/verify");
  expect(usernameless.answer).toMatchObject({ result: { user: { id: "ada" } } });
  await expect(page.locator("#status").textContent()).resolves.toContain("Signed in (usernameless) as user ada");

  // The server API sees the same credential, by handle and by id.
  const byHandle = await serverApi("/credential/find", { user: { handle: "ada" } });
  expect(byHandle.status).toBe(200);
  const found = (byHandle.body.result as { data: Array<{ id: string; isActive: boolean; transports: string[] }> }).data;
  expect(found.map((c) => c.id)).toEqual([credentialId]);
  expect(found[0]?.isActive).toBe(true);
  const byId = await serverApi("/credential/find", { user: { id: "ada" } });
  expect((byId.body.result as { data: Array<{ id: string }> }).data.map((c) => c.id)).toEqual([credentialId]);

  // Every client-API call went out as the public SDK sends it.
  const paths = sdkRequests.map((r) => r.path);
  expect(paths).toEqual(
    expect.arrayContaining(["/attestation/options", "/attestation/process", "/assertion/options", "/assertion/process"]),
  );
  for (const r of sdkRequests.filter((x) => x.headers["content-type"])) {
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from(`${keys.pk}:`).toString("base64")}`);
    expect(r.headers["x-sdk"]).toBe(`js/${SDK_VERSION}`);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers.accept).toBe("application/json");
  }
});

test("autofill: on page load the username field offers the passkey and signing in with it is verified", async () => {
  // Chromium's virtual authenticator answers a conditional (autofill) request with its
  // discoverable credential, as a user picking it from the autofill list would.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  const verified = await resultOf("/auth/verify");
  expect(verified.label).toContain("HTTP 200");
  expect(verified.answer).toMatchObject({ result: { user: { id: "ada" } } });
  await expect(page.locator("#status").textContent()).resolves.toContain("Signed in (autofill) as user ada");
  const mediated = sdkRequests.filter((r) => r.path === "/assertion/options");
  expect(mediated.length).toBeGreaterThanOrEqual(3);
});

test("through the development gateway (the `npm start` topology) the page signs in with the same passkey", async () => {
  await page.goto(`${gatewayBase}/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  // Autofill may sign in on load (virtual authenticator); then sign in explicitly by username.
  await page.fill("#username", "ada");
  await clearResult();
  await page.click("#sign-in");
  // Autofill on load may also have signed in; wait for this click's own (username) sign-in.
  await statusContains("Signed in (username) as user ada");
  const verified = await resultOf("/auth/verify");
  expect(verified.label).toContain("HTTP 200");
  expect(verified.answer).toMatchObject({ result: { user: { id: "ada" } } });
  const viaGateway = sdkRequests.filter((r) => r.target === gatewayBase).map((r) => r.path);
  expect(viaGateway).toEqual(expect.arrayContaining(["/assertion/options", "/assertion/process"]));
});

test("a deactivated passkey cannot sign in: the page shows the SDK's bad_request with the API's error", async () => {
  const found = await serverApi("/credential/find", { user: { handle: "ada" } });
  const credentialId = (found.body.result as { data: Array<{ id: string }> }).data[0]?.id;
  const updated = await serverApi("/credential/update", { credentialId, active: false });
  expect(updated.status).toBe(200);

  await clearResult();
  await page.fill("#username", "");
  await page.click("#sign-in");
  const failed = await resultOf("Browser SDK result");
  expect(failed.answer).toMatchObject({ ok: false, error: "bad_request" });
  const more = failed.answer.more as { status: number; errors: Array<{ code: string }> };
  expect(more.status).toBeGreaterThanOrEqual(400);
  expect(more.status).toBeLessThan(500);
  expect(more.errors.length).toBeGreaterThan(0);
  await statusContains("(bad_request)");
  await expect(page.locator("#status").textContent()).resolves.toContain("Signing in failed");

  await serverApi("/credential/update", { credentialId, active: true });
  await clearResult();
  await page.click("#sign-in");
  expect((await resultOf("/auth/verify")).answer).toMatchObject({ result: { user: { id: "ada" } } });
});

test("the SDK's error vocabulary in the browser: bad_request, network_error, invalid_domain, webauthn_unavailable", async () => {
  await page.goto(`${base}/demo/config`);
  // A relying party id that is not this page's domain (as a misconfigured API would send):
  // the browser refuses it with a SecurityError before any authenticator is asked.
  await page.route("**/attestation/options", async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as { result: { publicKey: { rp: { id: string } } } };
    json.result.publicKey.rp.id = "example.com";
    await route.fulfill({ response, json });
  });
  const outcomes = await page.evaluate(
    async ({ pk, sdkUrl }) => {
      const { SDK } = await import(sdkUrl);
      const badKey = await new SDK("pk_test_doesnotexist0000000000000000", "").startAuth({ username: "ada" });
      const unreachable = await new SDK(pk, "http://localhost:1").startAuth({ username: "ada" });
      const wrongDomain = await new SDK(pk, "").startRegister({ username: "eve" });
      const saved = Object.getOwnPropertyDescriptor(window, "PublicKeyCredential");
      Reflect.deleteProperty(window, "PublicKeyCredential");
      const noWebAuthn = await new SDK(pk, "").startRegister({ username: "eve" });
      if (saved) Object.defineProperty(window, "PublicKeyCredential", saved);
      return { badKey, unreachable, wrongDomain, noWebAuthn };
    },
    { pk: keys.pk, sdkUrl: "/demo/sdk.js" },
  );
  await page.unroute("**/attestation/options");
  expect(outcomes.badKey).toMatchObject({ ok: false, error: "bad_request", more: { status: 400 } });
  expect(outcomes.badKey.more.errors[0].code).toBe("PublishableKeyNotFound");
  expect(outcomes.unreachable).toMatchObject({ ok: false, error: "network_error" });
  expect(outcomes.wrongDomain).toMatchObject({ ok: false, error: "invalid_domain", more: { name: "SecurityError" } });
  expect(outcomes.noWebAuthn).toEqual({ ok: false, error: "webauthn_unavailable" });
  // Nothing was registered by the refused ceremony.
  const stored = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(stored.credentials).toHaveLength(1);
});
