import { createHash, randomBytes } from "node:crypto";
import type { Express } from "express";
import type { AppDeps } from "../../src/deps.js";
import { request } from "./harness.js";

/**
 * Helpers of the console's tests: a signed-in browser is a cookie and the page's CSRF token.
 * Every request goes through the harness (responses checked against the OpenAPI document).
 */
export interface Browser {
  cookie: string;
  csrf: string;
}

/** The `name=value` of the session cookie of a response, or null. */
export function sessionCookieOf(setCookie: string[] | string | undefined): string | null {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const line = list.find((c) => /authplane_dashboard=[^;]+/.test(c) && !/Max-Age=0/.test(c));
  return line ? (line.split(";")[0] ?? null) : null;
}

export function csrfOf(text: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(text);
  if (!m?.[1]) throw new Error("no CSRF field on the page");
  return m[1];
}

/** Signs in with the operator token (from `ip`, so that each test has its own sign-in budget). */
export async function signIn(app: Express, token: string, ip = "198.51.100.1"): Promise<Browser> {
  const res = await request(app).post("/dashboard/sign-in").set("X-Forwarded-For", ip).type("form").send({ token }).expect(303);
  const cookie = sessionCookieOf(res.headers["set-cookie"]);
  if (!cookie) throw new Error("no session cookie");
  const page = await request(app).get("/dashboard/organizations").set("Cookie", cookie).expect(200);
  return { cookie, csrf: csrfOf(page.text) };
}

/** A session of an organization admin bound to `organizationId` (its sign-in is another page's). */
export async function orgAdminBrowser(app: Express, deps: AppDeps, organizationId: string): Promise<Browser> {
  const token = randomBytes(32).toString("base64url");
  await deps.prisma.dashboardSession.create({
    data: {
      id: `dsn_test_${randomBytes(6).toString("hex")}`,
      tokenHash: createHash("sha256").update(`dashboard-session:${token}`).digest("hex"),
      principalKind: "orgAdmin",
      principalId: "adm_test",
      principalLabel: "admin@org.example",
      organizationId,
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  const cookie = `authplane_dashboard=${token}`;
  const page = await request(app).get(`/dashboard/organizations/${organizationId}`).set("Cookie", cookie).expect(200);
  return { cookie, csrf: csrfOf(page.text) };
}

/** POSTs a console form as the browser would (same-origin Origin and Sec-Fetch-Site, the CSRF field). */
export function postForm(app: Express, b: Browser, url: string, form: Record<string, string>) {
  return request(app)
    .post(url)
    .set("Cookie", b.cookie)
    .set("Host", "console.test")
    .set("Origin", "http://console.test")
    .set("Sec-Fetch-Site", "same-origin")
    .type("form")
    .send({ _csrf: b.csrf, ...form });
}
