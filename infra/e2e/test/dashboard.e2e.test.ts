/**
 * Issue 14's acceptance test: the web console in a real browser (Debian's headless Chromium,
 * playwright-core) against the REAL built services as child processes behind the development
 * gateway (admin-key's DASHBOARD_API_URL is that gateway, as under `npm start`). The operator signs
 * in, creates an organization, rotates a key, changes a setting (the test mode's relying party);
 * a consumer is created by real API calls (guest, then email OTP with the code from otp-delivery's
 * dev outbox); the console finds it, revokes its session (the access token is then refused by
 * /api/v1/auth/check), lists the passkey registered for it (Chromium's virtual authenticator over
 * CDP, the browser SDK, the server API's attach) and deactivates it; the live tail, open in a second
 * tab, receives the events as they happen. Every page: a screenshot kept as a test artifact
 * (infra/e2e/artifacts/dashboard/, gitignored), Tab reaches the skip link first and the page's main
 * form controls, and axe-core finds no serious or critical violation.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { chromiumLaunchOptions, eventually } from "@authplane/service-kit/testing";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { seriousViolations } from "../src/axe.mjs";
import { root, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(300_000);

const ARTIFACTS = path.join(root, "infra/e2e/artifacts/dashboard");

let stack: Stack;
/** The console's origin as the browser sees it: the gateway, addressed as localhost (the passkey's rpId). */
let origin: string;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  stack = await startStack({ services: ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"], gateway: true });
  origin = stack.gatewayUrl.replace("127.0.0.1", "localhost");
  browser = await chromium.launch(chromiumLaunchOptions());
  context = await browser.newContext();
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

/** Screenshot, keyboard and axe checks of the page as it is now. */
async function checkPage(page: Page, name: string, controls: string[]): Promise<void> {
  // Two tabs are open (the live tail): keyboard input goes to the one in front.
  await page.bringToFront();
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  // Keyboard: the first Tab from the top of the page lands on the skip link, and Tab reaches
  // each of the page's main form controls.
  // (Called right after a page load: the focus starts at the top of the document.)
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.getAttribute("href"))).toBe("#main");
  const reached = new Set<string>();
  for (let i = 0; i < 120 && reached.size < controls.length; i++) {
    await page.keyboard.press("Tab");
    for (const selector of controls)
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) reached.add(selector);
  }
  expect([...reached].sort()).toEqual([...controls].sort());
  expect(await seriousViolations(page)).toEqual([]);
}

async function api(p: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(`${stack.gatewayUrl}${p}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

test("operator console: organization, key, setting, consumer found, session revoked, passkey deactivated, live events", async () => {
  const page = await context.newPage();
  const confirmations: string[] = [];
  page.on("dialog", (d) => {
    confirmations.push(d.message());
    void d.accept();
  });

  // 1. Sign in with the operator token.
  await page.goto(`${origin}/dashboard/sign-in`);
  await checkPage(page, "01-sign-in", ["#token", "#name"]);
  await page.fill("#token", stack.operatorToken);
  await page.fill("#name", "E2E operator");
  await page.locator("form:has(#token) button[type=submit]").click();
  await page.waitForURL(/\/dashboard\/(organizations)?/);

  // 2. Create an organization: its keys are shown once.
  await page.goto(`${origin}/dashboard/organizations`);
  await checkPage(page, "02-organizations", ["#q", "#name"]);
  await page.fill("#name", "Dashboard E2E");
  await page.locator("form:has(#name) button[type=submit]").click();
  await page.waitForSelector("#pk-test");
  await checkPage(page, "03-organization-created", ["#pk-test", "#sk-test"]);
  const pk = await page.inputValue("#pk-test");
  const sk = await page.inputValue("#sk-test");
  expect(pk).toMatch(/^pk_test_/);
  expect(sk).toMatch(/^sk_test_/);
  const orgHref = (await page.locator('a[href^="/dashboard/organizations/org_"]').first().getAttribute("href")) ?? "";
  const orgId = orgHref.split("/").at(-1) ?? "";
  expect(orgId).toMatch(/^org_/);
  const org = (sub: string, mode?: string) => `${origin}/dashboard/organizations/${orgId}${sub}${mode ? `?mode=${mode}` : ""}`;

  // The live tail, open in a second tab from now on.
  const tail = await context.newPage();
  await tail.goto(org("/events", "test"));
  await tail.waitForFunction(() => document.getElementById("tail-status")?.textContent?.startsWith("Live"), null, { timeout: 30_000 });

  // 3. Rotate the live secret key (24 h grace): the new key is shown once.
  await page.goto(org(""));
  await checkPage(page, "04-keys", ['select[name="expiresInSeconds"]', 'select[name="kind"]']);
  await page
    .locator('section[aria-labelledby="keys-live"] tr', { hasText: "secret" })
    .getByRole("button", { name: /^Rotate/ })
    .first()
    .click();
  await page.waitForSelector("#new-key");
  expect(await page.inputValue("#new-key")).toMatch(/^sk_live_/);
  await checkPage(page, "05-key-rotated", ["#new-key"]);

  // 4. Change a setting: the test mode's relying party (the passkey below needs it).
  await page.goto(org("/settings"));
  await checkPage(page, "06-settings", ["#test-webauthnRpId", "#live-accessTokenTtlSeconds"]);
  await page.fill("#test-webauthnRpId", "localhost");
  await page.fill("#test-webauthnRpName", "Dashboard E2E");
  await page.fill("#test-webauthnOrigins", origin);
  await page.locator(`form[action$="/settings/test"] button[type=submit]`).click();
  await page.waitForSelector("p.notice");

  // 5. A consumer through the real API: guest, then email OTP (code from the dev outbox).
  const email = `dash+${Date.now()}@example.com`;
  const guest = await api("/api/v1/auth/guest", { headers: { "x-publishable-key": pk }, body: {} });
  expect(guest.status).toBe(200);
  const guestToken = guest.json?.accessToken as string;
  expect((await api("/api/v1/auth/otp/request", { headers: { "x-publishable-key": pk }, body: { email } })).status).toBe(200);
  const code = await eventually(async () => {
    const out = await api(`/dev/outbox?to=${encodeURIComponent(email)}`);
    return ((out.json?.messages as Array<{ code: string }> | undefined) ?? [])[0]?.code;
  }, 30_000);
  const verified = await api("/api/v1/auth/otp/verify", {
    headers: { "x-publishable-key": pk, authorization: `Bearer ${guestToken}` },
    body: { email, code },
  });
  expect(verified.status).toBe(200);
  const session = verified.json?.session as { consumerId: string; sessionId: string };
  const accessToken = verified.json?.accessToken as string;
  const check = () => api("/api/v1/auth/check", { headers: { "x-publishable-key": pk, authorization: `Bearer ${accessToken}` } });
  expect((await check()).status).toBe(200);

  // 6. Find it in the console (test mode), by email.
  await page.goto(org("/consumers", "test"));
  await page.fill("#q", email);
  await page.locator('form[role="search"] button[type=submit]').click();
  await page.waitForSelector(`a:has-text("${session.consumerId}")`);
  await checkPage(page, "07-consumers", ["#q"]);
  await page.click(`a:has-text("${session.consumerId}")`);
  await page.waitForSelector("#sessions-heading");
  await checkPage(page, "08-consumer", [`form[action$="/sessions/${session.sessionId}/revoke"] button`]);

  // 7. Revoke its session: the API refuses the access token at once.
  await page.locator(`form[action$="/sessions/${session.sessionId}/revoke"] button`).click();
  await page.waitForSelector("p.notice");
  expect(await page.locator("p.notice").textContent()).toContain("The session was revoked");
  expect(confirmations.at(-1)).toBe(`Revoke session ${session.sessionId}? Its tokens stop working at once.`);
  expect((await check()).status).toBe(401);

  // 8. A passkey for the consumer (userId = consumer id): the browser SDK with Chromium's virtual
  // authenticator, attached by the organization's server (server API, secret key).
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const credentialId = await eventually(async () => {
    const registration = (await page.evaluate(
      async ({ key, base, user }) => {
        const { SDK } = (await import("/demo/sdk.js" as string)) as {
          SDK: new (
            k: string,
            b: string,
          ) => { startRegister(o: { username: string }): Promise<{ ok: boolean; data?: { token: string }; error?: string }> };
        };
        return new SDK(key, base).startRegister({ username: user });
      },
      { key: pk, base: origin, user: session.consumerId },
    )) as { ok: boolean; data?: { token: string }; error?: string };
    if (!registration.ok || !registration.data) throw new Error(`registration failed: ${registration.error}`);
    const attached = await api("/registration/attach", {
      headers: { authorization: `Basic ${Buffer.from(`:${sk}`).toString("base64")}` },
      body: { token: registration.data.token, user: { id: session.consumerId, handle: email } },
    });
    if (attached.status !== 200) throw new Error(`attach: ${attached.status} ${JSON.stringify(attached.json)}`);
    return (attached.json?.result as { id: string } | undefined)?.id;
  }, 45_000);
  expect(credentialId).toMatch(/^ctl_/);

  // 9. The consumer's page lists it; deactivate it.
  await page.reload();
  const deactivate = page.locator(`form[action$="/passkeys/${credentialId}/deactivate"] button`);
  await deactivate.waitFor();
  await checkPage(page, "09-consumer-passkey", [`form[action$="/passkeys/${credentialId}/deactivate"] button`]);
  await deactivate.click();
  await page.waitForSelector("p.notice");
  expect(await page.locator("p.notice").textContent()).toContain("The passkey was deactivated");
  expect(confirmations.at(-1)).toMatch(/^Deactivate passkey .+\? It cannot sign in until reactivated\.$/);
  expect(await page.locator(`form[action$="/passkeys/${credentialId}/reactivate"] button`).count()).toBe(1);
  await checkPage(page, "10-consumer-passkey-deactivated", [`form[action$="/passkeys/${credentialId}/reactivate"] button`]);

  // 10. The live tail received the events as they happened (appended by the stream).
  for (const type of ["consumers.v1.created", "sessions.v1.revoked", "credentials.v1.created", "credentials.v1.updated"])
    await tail.waitForSelector(`#live-events li:has-text("${type}")`, { timeout: 30_000 });
  await checkPage(tail, "11-live-events", []);

  // 11. OTP deliveries: the code's email, masked.
  await page.goto(org("/otp-deliveries", "test"));
  await page.waitForSelector("table");
  const deliveries = (await page.locator("tbody").textContent()) ?? "";
  expect(deliveries).toContain("email");
  expect(deliveries).not.toContain(email);
  await checkPage(page, "12-otp-deliveries", ["#status", "#channel"]);

  // 12. Overview: the charts, with the numbers just made.
  await page.goto(org("/overview", "test"));
  await page.waitForSelector("#chart-signins-caption");
  expect(await page.locator("#chart-adoption-caption").textContent()).toContain("of 1 consumers");
  await checkPage(page, "13-overview", ["details.chart-data summary"]);

  // 13. The audit log has the console's changes.
  await page.goto(`${origin}/dashboard/audit?organizationId=${orgId}`);
  const auditText = (await page.locator("main").textContent()) ?? "";
  for (const action of ["organization.create", "key.rotate", "settings.update", "consumer.session.revoke", "passkey.deactivate"])
    expect(auditText).toContain(action);
  await checkPage(page, "14-audit", []);
});
