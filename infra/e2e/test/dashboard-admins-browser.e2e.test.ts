/**
 * Issue 14, organization admins in a real browser (headless Chromium, playwright-core, Chromium's
 * virtual authenticator over CDP) against the real services behind the gateway: the admin signs
 * in with the emailed code (read from otp-delivery's dev outbox), registers a passkey with the
 * console's own script (assets/dashboard/passkey.js: webauthn-credential's client API, then the
 * form posts the token), signs out, and signs in again with the code and the passkey. The pages of
 * the flow are checked with axe-core (no serious or critical violation) and screenshotted
 * (infra/e2e/artifacts/dashboard-admins/, gitignored).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { chromiumLaunchOptions, eventually } from "@authplane/service-kit/testing";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { seriousViolations } from "../src/axe.mjs";
import { createOrganization, freePort, root, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(240_000);

const ARTIFACTS = path.join(root, "infra/e2e/artifacts/dashboard-admins");
const EMAIL = "admin@example.com";

let stack: Stack;
/** The console as the browser sees it (the gateway as localhost: the passkey's rpId). */
let origin: string;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  // The console organization's relying party must be the browser's origin: the gateway's port is
  // startStack's first port, so it is reserved here and known before admin-key starts.
  const gatewayPort = await freePort();
  let first = true;
  const port = async () => {
    if (!first) return freePort();
    first = false;
    return gatewayPort;
  };
  origin = `http://localhost:${gatewayPort}`;
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"],
    gateway: true,
    port,
    env: { "admin-key": { DASHBOARD_PUBLIC_ORIGIN: origin }, "consumer-auth": { OTP_RESEND_COOLDOWN_SECONDS: "0" } },
  });
  expect(stack.gatewayUrl).toBe(`http://127.0.0.1:${gatewayPort}`);
  browser = await chromium.launch(chromiumLaunchOptions());
  context = await browser.newContext();
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

async function check(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  expect(await seriousViolations(page)).toEqual([]);
}

async function outboxCount(): Promise<number> {
  const res = await fetch(`${stack.gatewayUrl}/dev/outbox?to=${encodeURIComponent(EMAIL)}`);
  return ((await res.json()) as { messages: unknown[] }).messages.length;
}

/** Email, then the code from the dev outbox, typed into the pages. */
async function emailAndCode(page: Page, shot: string | null): Promise<void> {
  const seen = await outboxCount();
  await page.goto(`${origin}/dashboard/sign-in`);
  if (shot) await check(page, `${shot}-sign-in`);
  await page.fill("#email", EMAIL);
  await Promise.all([page.waitForURL(`${origin}/dashboard/sign-in/code`), page.click('button:has-text("Send me a code")')]);
  if (shot) await check(page, `${shot}-code`);
  const code = await eventually(async () => {
    const res = await fetch(`${stack.gatewayUrl}/dev/outbox?to=${encodeURIComponent(EMAIL)}`);
    const { messages } = (await res.json()) as { messages: Array<{ code: string }> };
    if (messages.length <= seen || !messages[0]) throw new Error("no code yet");
    return messages[0].code;
  });
  await page.fill("#code", code);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Continue")')]);
}

test("an invited admin signs in with the email code, registers a passkey with the console's script, then signs in with code + passkey", async () => {
  const org = (await createOrganization(stack.gatewayUrl, stack.operatorToken, "Browser Org")).organization;
  // The operator invites (through the console's form, as the operator's browser would).
  const op = await context.browser()?.newContext();
  if (!op) throw new Error("no browser");
  const opPage = await op.newPage();
  await opPage.goto(`${origin}/dashboard/sign-in`);
  await opPage.fill("#token", stack.operatorToken);
  await Promise.all([opPage.waitForNavigation(), opPage.click("section[aria-labelledby=operator-heading] button[type=submit]")]);
  await opPage.goto(`${origin}/dashboard/organizations/${org.id}/admins`);
  await check(opPage, "01-admins");
  await opPage.fill("#email", EMAIL);
  await Promise.all([opPage.waitForNavigation(), opPage.click('button:has-text("Invite")')]);
  expect(await opPage.textContent("main")).toContain(EMAIL);
  await op.close();

  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // First sign-in: the code alone, then the passkey page.
  await emailAndCode(page, "02");
  expect(page.url()).toBe(`${origin}/dashboard/account/passkey?first=1`);
  await check(page, "03-passkey-offer");
  await Promise.all([page.waitForURL(`${origin}/dashboard/account/passkey?done=1`), page.click('button:has-text("Register a passkey")')]);
  expect(await page.textContent("main")).toContain("Your passkey is registered");
  await check(page, "04-passkey-registered");
  expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials).toHaveLength(1);

  // Sign out; sign in again: code, then the passkey (the console's script, the virtual authenticator).
  await Promise.all([page.waitForURL(/\/dashboard\/sign-in/), page.click('button:has-text("Sign out")')]);
  await emailAndCode(page, null);
  expect(page.url()).toBe(`${origin}/dashboard/sign-in/passkey`);
  await check(page, "05-passkey-step");
  await Promise.all([page.waitForURL(`${origin}/dashboard/organizations/${org.id}`), page.click('button:has-text("Use my passkey")')]);
  expect(await page.textContent("header")).toContain(`Signed in as ${EMAIL}`);
  await check(page, "06-signed-in");
});
