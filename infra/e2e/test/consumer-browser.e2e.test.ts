/**
 * The consumer browser SDK in a real browser: Debian's headless Chromium (playwright-core) drives
 * the consumer demo page (`/demo/consumer/`, served by consumer-auth through the development
 * gateway) against the REAL built services as child processes (admin-key, consumer-auth,
 * otp-delivery). Guest -> OTP (code from otp-delivery's dev outbox) -> refresh -> authenticated
 * call -> two tabs refreshing at the same instant -> logout, first with the page on the API's own
 * origin, then with the page on a SECOND origin (another gateway on another port and host name),
 * where every call is cross-origin and CORS applies.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { chromiumLaunchOptions, eventually } from "@authplane/service-kit/testing";
// The development gateway of `npm start` (test-only import; it has no dependencies).
import { createGateway } from "../../gateway/src/main.js";
import { seriousViolations } from "../src/axe.mjs";
import { createOrganization, type OrganizationKeys, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(180_000);

let stack: Stack;
/** The API's origin: the stack's gateway, addressed as 127.0.0.1. */
let apiOrigin: string;
/** Where the page is served from in the cross-origin runs: a second gateway, addressed as localhost. */
let secondGateway: Server;
let pageOrigin: string;
let keys: OrganizationKeys;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack({ services: ["admin-key", "consumer-auth", "otp-delivery"], gateway: true });
  apiOrigin = stack.gatewayUrl;
  const created = await createOrganization(stack.urls["admin-key"] ?? "", stack.operatorToken, "Consumer SDK E2E");
  keys = created.keys;
  const unused = "http://127.0.0.1:9";
  secondGateway = createGateway({
    targets: {
      consumer: stack.urls["consumer-auth"] ?? unused,
      admin: unused,
      otp: stack.urls["otp-delivery"] ?? unused,
      webauthn: unused,
    },
  });
  await new Promise<void>((resolve) => secondGateway.listen(0, "127.0.0.1", resolve));
  pageOrigin = `http://localhost:${(secondGateway.address() as AddressInfo).port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  if (secondGateway) {
    secondGateway.closeAllConnections();
    await new Promise<void>((resolve) => secondGateway.close(() => resolve()));
  }
  await stack?.stop();
});

interface Tab {
  page: Page;
  /** Clicks a step's button and waits for its outcome on the status line. */
  run(button: string): Promise<{ kind: string; text: string }>;
  stored(): Promise<{ accessToken: string; refreshToken: string; session: { consumerId: string; type: string } } | null>;
}

function storageKey(): string {
  return `fanfare.session.${keys.publishable.test}`;
}

async function openTab(context: BrowserContext, origin: string, apiBase: string): Promise<Tab> {
  const page = await context.newPage();
  await page.goto(`${origin}/demo/consumer/`);
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 20_000 });
  await page.fill("#publishable-key", keys.publishable.test);
  await page.fill("#api-base", apiBase);
  // `change` re-creates the SDK with the fields' values.
  await page.locator("#api-base").dispatchEvent("change");
  const tab: Tab = {
    page,
    async run(button) {
      const before = Number(await page.locator("#status").getAttribute("data-seq"));
      await page.click(`#${button}`);
      await page.waitForFunction((n) => Number(document.getElementById("status")?.dataset.seq) > n, before, { timeout: 30_000 });
      return {
        kind: (await page.locator("#status").getAttribute("data-kind")) ?? "",
        text: (await page.locator("#status").textContent()) ?? "",
      };
    },
    async stored() {
      const raw = await page.evaluate((k) => localStorage.getItem(k), storageKey());
      return raw ? JSON.parse(raw) : null;
    },
  };
  return tab;
}

async function api(path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(`${apiOrigin}${path}`, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

function expectOk(outcome: { kind: string; text: string }): void {
  if (outcome.kind !== "ok") throw new Error(`the demo page reported: ${outcome.text}`);
}

/**
 * The whole walk on one context (one browser profile): the page at `origin`, the SDK calling the
 * API at `apiBase` ("" = the page's own origin).
 */
async function walk(origin: string, apiBase: string): Promise<void> {
  const context = await browser.newContext();
  const refreshPosts: string[] = [];
  /** The refresh token each answered `POST /refresh` handed out, in order. */
  const issuedRefreshTokens: string[] = [];
  const apiRequests: Array<{ method: string; path: string; target: string; origin: string | undefined; headers: Record<string, string> }> =
    [];
  const pendingHeaders: Array<Promise<void>> = [];
  context.on("request", (req) => {
    const url = new URL(req.url());
    if (!url.pathname.startsWith("/api/v1/auth/")) return;
    const entry = {
      method: req.method(),
      path: url.pathname,
      target: url.origin,
      origin: undefined as string | undefined,
      headers: req.headers(),
    };
    apiRequests.push(entry);
    // `headers()` lacks what the network stack adds (Origin); `allHeaders()` has everything sent.
    pendingHeaders.push(
      req.allHeaders().then(
        (all) => {
          entry.origin = all.origin;
        },
        () => {},
      ),
    );
    if (req.method() === "POST" && url.pathname === "/api/v1/auth/refresh") refreshPosts.push(url.origin);
  });
  context.on("response", (res) => {
    const url = new URL(res.url());
    if (res.request().method() !== "POST" || url.pathname !== "/api/v1/auth/refresh" || res.status() !== 200) return;
    res.json().then(
      (body: { refreshToken?: string }) => {
        if (body.refreshToken) issuedRefreshTokens.push(body.refreshToken);
      },
      () => {},
    );
  });
  try {
    const tab1 = await openTab(context, origin, apiBase);
    // The demo page is usable from a keyboard and a screen reader (axe-core: nothing serious).
    expect(await seriousViolations(tab1.page)).toEqual([]);
    const email = `ada+${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.com`;

    // 1. Guest.
    expectOk(await tab1.run("guest"));
    const guest = await tab1.stored();
    expect(guest?.session.type).toBe("guest");
    expect(guest?.session.consumerId).toMatch(/^guest_/);
    const guestCall = apiRequests.find((r) => r.path === "/api/v1/auth/guest" && r.method === "POST");
    expect(guestCall?.headers["x-publishable-key"]).toBe(keys.publishable.test);
    expect(guestCall?.headers.cookie).toBeUndefined();

    // 2. OTP: request, read the code from otp-delivery's dev outbox, verify (upgrades the guest in place).
    await tab1.page.fill("#identity", email);
    expectOk(await tab1.run("send-code"));
    expectOk(await tab1.run("read-outbox"));
    expect(await tab1.page.inputValue("#code")).toMatch(/^\d{6}$/);
    expectOk(await tab1.run("verify"));
    const signedIn = await tab1.stored();
    expect(signedIn?.session.type).toBe("otp");
    expect(signedIn?.session.consumerId).toBe(guest?.session.consumerId);
    const verifyCall = apiRequests.find((r) => r.path === "/api/v1/auth/otp/verify" && r.method === "POST");
    expect(verifyCall?.headers.authorization).toBe(`Bearer ${guest?.accessToken}`);

    // 3. Refresh from one tab: one rotation.
    expectOk(await tab1.run("refresh"));
    const afterOne = await tab1.stored();
    expect(afterOne?.refreshToken).not.toBe(signedIn?.refreshToken);
    expect(refreshPosts).toHaveLength(1);

    // 4. The authenticated fetch sends both headers and the API accepts them.
    expectOk(await tab1.run("call-api"));
    const check = apiRequests.filter((r) => r.path === "/api/v1/auth/check" && r.method === "GET").at(-1);
    expect(check?.headers.authorization).toBe(`Bearer ${afterOne?.accessToken}`);
    expect(check?.headers["x-publishable-key"]).toBe(keys.publishable.test);

    // 5. Two tabs refresh at the same instant: one rotation for both, the session survives.
    const tab2 = await openTab(context, origin, apiBase);
    expect((await tab2.stored())?.refreshToken).toBe(afterOne?.refreshToken);
    await tab2.page.waitForFunction(() => document.getElementById("session")?.dataset.type === "otp", null, { timeout: 10_000 });
    const seqs = await Promise.all([tab1, tab2].map(async (t) => Number(await t.page.locator("#status").getAttribute("data-seq"))));
    // "At the same instant" made certain: a third holder takes the SDK's Web Lock, both tabs click
    // (each starts its refresh from the same refresh token and queues on the lock), then the lock is
    // let go. Timed clicks alone let a loaded machine run one tab's whole refresh before the other's
    // click, which is two refreshes in a row, not two at once.
    const lockName = `fanfare:${storageKey()}`;
    const holder = await context.newPage();
    await holder.goto(`${origin}/demo/consumer/`);
    await holder.evaluate(
      (name) =>
        new Promise<void>((held) => {
          void navigator.locks.request(name, () => {
            held();
            return new Promise<void>((release) => {
              (window as unknown as { releaseFanfareLock: () => void }).releaseFanfareLock = release;
            });
          });
        }),
      lockName,
    );
    await Promise.all([tab1, tab2].map((t) => t.page.evaluate(() => document.getElementById("refresh")?.click())));
    const queuedBy = Date.now() + 10_000;
    while (
      (await holder.evaluate(
        async (name) => ((await navigator.locks.query()).pending ?? []).filter((l) => l.name === name).length,
        lockName,
      )) < 2
    ) {
      if (Date.now() > queuedBy) throw new Error("the two tabs' refreshes never queued on the SDK's lock");
      await new Promise((r) => setTimeout(r, 50));
    }
    await holder.evaluate(() => (window as unknown as { releaseFanfareLock: () => void }).releaseFanfareLock());
    for (const [i, t] of [tab1, tab2].entries()) {
      await t.page.waitForFunction((n) => Number(document.getElementById("status")?.dataset.seq) > n, seqs[i] ?? 0, { timeout: 30_000 });
      expect(await t.page.locator("#status").getAttribute("data-kind")).toBe("ok");
      expect(await t.page.locator("#status").getAttribute("data-step")).toBe("refresh");
    }
    // ONE rotation for both tabs: the second tab took the first one's new pair under the lock.
    // Chromium hands localStorage writes to another tab's process asynchronously, so now and then
    // the second tab, once it holds the lock, still reads the old token and presents it again;
    // the API's reuse grace then answers with the SAME new pair (no second rotation, no
    // revocation). What a user would notice is the pair, so that is what is counted.
    expect(refreshPosts.length).toBeGreaterThanOrEqual(2);
    expect(refreshPosts.length).toBeLessThanOrEqual(3);
    const [s1, s2] = await Promise.all([tab1.stored(), tab2.stored()]);
    await eventually(() => issuedRefreshTokens.length === refreshPosts.length);
    expect(new Set(issuedRefreshTokens.slice(1))).toEqual(new Set([s1?.refreshToken]));
    expect(s1?.refreshToken).toBe(s2?.refreshToken);
    expect(s1?.refreshToken).not.toBe(afterOne?.refreshToken);
    // Both tabs' sessions still work (nothing was revoked), in the browser and as the API sees it.
    expectOk(await tab1.run("call-api"));
    expectOk(await tab2.run("call-api"));
    const direct = await api("/api/v1/auth/check", {
      method: "GET",
      headers: { authorization: `Bearer ${s1?.accessToken}`, "x-publishable-key": keys.publishable.test },
    });
    expect(direct.status).toBe(200);

    // 6. Logout in tab 1: the server revokes the session, and tab 2 learns it is signed out.
    expectOk(await tab1.run("logout"));
    expect(await tab1.stored()).toBeNull();
    await tab2.page.waitForFunction(() => document.getElementById("session")?.textContent === "None.", null, { timeout: 10_000 });
    const revokedCheck = await api("/api/v1/auth/check", {
      method: "GET",
      headers: { authorization: `Bearer ${s1?.accessToken}`, "x-publishable-key": keys.publishable.test },
    });
    expect(revokedCheck.status).toBe(401);
    const revokedRefresh = await api("/api/v1/auth/refresh", {
      headers: { "x-publishable-key": keys.publishable.test },
      body: { refreshToken: s1?.refreshToken },
    });
    expect(revokedRefresh.status).toBe(401);
    expect(revokedRefresh.json?.error).toBe("session_revoked");

    // The SDK's calls went to the API's origin; cross-origin, each carried the page's Origin and
    // was preflighted (X-Publishable-Key is not a CORS-safelisted header).
    const apiHost = new URL(apiBase === "" ? origin : apiBase).origin;
    const sdkCalls = apiRequests.filter((r) => r.path !== "/api/v1/auth/check");
    expect(sdkCalls.length).toBeGreaterThan(0);
    expect(sdkCalls.every((r) => r.target === apiHost)).toBe(true);
    if (apiBase !== "") {
      await Promise.all(pendingHeaders);
      expect(sdkCalls.filter((r) => r.method === "POST").every((r) => r.origin === origin)).toBe(true);
    }
  } finally {
    await context.close();
  }
}

test("same origin: the demo page through the gateway walks guest -> OTP -> refresh -> two tabs -> logout", async () => {
  await walk(apiOrigin, "");
});

test("second origin not (yet) in the organization's allowed origins: the browser refuses, the SDK says network_error", async () => {
  const context = await browser.newContext();
  try {
    const tab = await openTab(context, pageOrigin, apiOrigin);
    const outcome = await tab.run("guest");
    expect(outcome.kind).toBe("error");
    expect(outcome.text).toContain("network_error");
    expect(await tab.stored()).toBeNull();
  } finally {
    await context.close();
  }
});

test("second origin in the organization's allowed origins: the same walk, every SDK call cross-origin (CORS)", async () => {
  // The customer lists the page's origin with the test-mode secret key (admin-key, through the gateway).
  const patch = await api("/api/v1/organizations/current/settings", {
    method: "PATCH",
    headers: { authorization: `Bearer ${keys.secret.test}` },
    body: { allowedOrigins: [pageOrigin] },
  });
  expect(patch.status).toBe(200);
  // consumer-auth drops its cached key answer on the settings event; wait until it allows the origin.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(`${apiOrigin}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: pageOrigin, "x-publishable-key": keys.publishable.test },
      body: JSON.stringify({ refreshToken: "rt_probe" }),
    });
    if (res.headers.get("access-control-allow-origin") === pageOrigin) break;
    if (Date.now() > deadline) throw new Error(`the API still refuses ${pageOrigin}: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await walk(pageOrigin, apiOrigin);
});
