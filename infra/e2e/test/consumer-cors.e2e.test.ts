/**
 * The consumer API's CORS as a real browser enforces it (Debian's headless Chromium through
 * playwright-core), against the REAL built services behind the development gateway: a page on
 * another origin calls guest, refresh and logout with `fetch` exactly as a customer's page would
 * (X-Publishable-Key forces a preflight). Only origins in the organization's `allowedOrigins`
 * (of the key's mode, set through the operator API) get answers the page can read; credentials
 * mode is never allowed.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { chromiumLaunchOptions } from "@authplane/service-kit/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { createOrganization, type OrganizationKeys, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(180_000);

let stack: Stack;
let apiOrigin: string;
let keys: OrganizationKeys;
let browser: Browser;
/** Two customer pages: one the organization lists, one it does not. */
const pages: http.Server[] = [];
let allowedOrigin: string;
let foreignOrigin: string;

async function servePage(): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>shop</title><p>shop</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  pages.push(server);
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  stack = await startStack({ services: ["admin-key", "consumer-auth"], gateway: true });
  apiOrigin = stack.gatewayUrl;
  const created = await createOrganization(stack.urls["admin-key"] ?? "", stack.operatorToken, "CORS E2E");
  keys = created.keys;
  allowedOrigin = await servePage();
  foreignOrigin = await servePage();
  const patched = await fetch(`${stack.urls["admin-key"]}/api/v1/organizations/${created.organization.id}/settings/test`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${stack.operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ allowedOrigins: [allowedOrigin] }),
  });
  expect(patched.status).toBe(200);
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  for (const s of pages) await new Promise<void>((resolve) => s.close(() => resolve()));
  await stack?.stop();
});

type Outcome = { status: number; body: unknown; requestIdReadable: boolean } | { error: string };

/** `fetch` run by the page itself: what the customer's code would see. */
function call(page: Page, path: string, init: { headers?: Record<string, string>; body?: unknown; credentials?: RequestCredentials }) {
  return page.evaluate(
    async ({ url, headers, body, credentials }): Promise<Outcome> => {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials,
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null, requestIdReadable: res.headers.has("x-request-id") };
      } catch (err) {
        return { error: String(err) };
      }
    },
    {
      url: `${apiOrigin}/api/v1/auth${path}`,
      headers: init.headers ?? {},
      body: init.body,
      credentials: init.credentials ?? "same-origin",
    },
  );
}

test("a page on an allowed origin: guest -> refresh -> logout, answers readable", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${allowedOrigin}/`);
    const pk = { "X-Publishable-Key": keys.publishable.test };
    const guest = await call(page, "/guest", { headers: pk });
    if ("error" in guest) throw new Error(guest.error);
    expect(guest.status).toBe(200);
    // Exposed: the page can read X-Request-Id (and Retry-After when there is one).
    expect(guest.requestIdReadable).toBe(true);
    const session = guest.body as { accessToken: string; refreshToken: string };
    const refreshed = await call(page, "/refresh", { headers: pk, body: { refreshToken: session.refreshToken } });
    expect(refreshed).toMatchObject({ status: 200, body: { accessToken: expect.any(String) } });
    const token = (refreshed as { body: { accessToken: string } }).body.accessToken;
    const out = await call(page, "/logout", { headers: { ...pk, Authorization: `Bearer ${token}` } });
    expect(out).toMatchObject({ status: 204 });

    // The live key's list is empty: the same page cannot use it.
    const live = await call(page, "/guest", { headers: { "X-Publishable-Key": keys.publishable.live } });
    expect(live).toMatchObject({ error: expect.stringMatching(/TypeError/) });
    // Credentials mode is never allowed (no Access-Control-Allow-Credentials).
    const withCookies = await call(page, "/guest", { headers: pk, credentials: "include" });
    expect(withCookies).toMatchObject({ error: expect.stringMatching(/TypeError/) });
  } finally {
    await page.close();
  }
});

test("a page on an origin the organization did not list cannot use the key nor read any answer", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${foreignOrigin}/`);
    const outcome = await call(page, "/guest", { headers: { "X-Publishable-Key": keys.publishable.test } });
    expect(outcome).toMatchObject({ error: expect.stringMatching(/TypeError/) });
    // What the server answered it (seen without a browser): 403 origin_not_allowed, nothing created.
    const direct = await fetch(`${apiOrigin}/api/v1/auth/guest`, {
      method: "POST",
      headers: { "X-Publishable-Key": keys.publishable.test, Origin: foreignOrigin, "Sec-Fetch-Site": "cross-site" },
    });
    expect(direct.status).toBe(403);
    expect(direct.headers.get("access-control-allow-origin")).toBeNull();
    expect(await direct.json()).toMatchObject({ error: "origin_not_allowed" });
  } finally {
    await page.close();
  }
});
