/**
 * Issue 14, organization admins' sign-in against the real services, all through the gateway:
 * the operator invites an address in the console; the admin signs in with an email code
 * (consumer-auth → otp-delivery; the code read from otp-delivery's dev outbox), registers a
 * passkey (webauthn-credential's client API with the console organization's publishable key, a
 * software authenticator in place of the browser's), and later signs in with the code AND the
 * passkey; an address of two organizations chooses one. An unknown address gets the same answers
 * and no mail. No secret key reaches the "browser" (the test's HTTP client) at any step.
 */
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { SoftAuthenticator } from "../../../services/webauthn-credential/test/support/soft-authenticator.js";
import { createOrganization, type Stack, startStack } from "../src/stack.mjs";

jest.setTimeout(180_000);

let stack: Stack;
let gw: string;
let consoleOrigin: string;

beforeAll(async () => {
  // The console's public origin (its relying party): what a browser on it writes into the
  // passkey's clientDataJSON. The test's client sends no Origin header, so the gateway's real port
  // need not match (startStack points admin-key's DASHBOARD_API_URL at the gateway).
  consoleOrigin = "http://localhost:8080";
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"],
    gateway: true,
    env: {
      "admin-key": {
        DASHBOARD_PUBLIC_ORIGIN: consoleOrigin,
        // Every request reaches admin-key from the gateway's address: one sign-in budget for the whole test.
        DASHBOARD_SIGN_IN_ATTEMPTS: "200",
      },
      "consumer-auth": { OTP_RESEND_COOLDOWN_SECONDS: "0" },
    },
  });
  gw = stack.gatewayUrl;
});
afterAll(async () => {
  await stack?.stop();
});

/** A browser's cookie jar and fetch (no redirects followed). */
class Browser {
  cookies = new Map<string, string>();
  async go(path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    const headers: Record<string, string> = { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    if (form) headers["Content-Type"] = "application/x-www-form-urlencoded";
    const res = await fetch(`${gw}${path}`, {
      method: form ? "POST" : "GET",
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: "manual",
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!value || /Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  }
}

const csrfOf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? "";
const attr = (text: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(text)?.[1] ?? "";

async function outbox(email: string): Promise<Array<{ id: string; code: string }>> {
  const res = await fetch(`${gw}/dev/outbox?to=${encodeURIComponent(email)}`);
  return ((await res.json()) as { messages: Array<{ id: string; code: string }> }).messages;
}

/** The next code mailed to `email` (newer than the messages already there). */
async function nextCode(email: string, seen: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const messages = await outbox(email);
    if (messages.length > seen && messages[0]) return messages[0].code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code mailed to ${email}`);
}

/** Steps 1 and 2: the email, then the code from the outbox. Returns the code step's answer. */
async function emailAndCode(b: Browser, email: string) {
  const seen = (await outbox(email)).length;
  const step1 = await b.go("/dashboard/sign-in/email", { email });
  expect(step1).toMatchObject({ status: 303, location: "/dashboard/sign-in/code" });
  const page = await b.go("/dashboard/sign-in/code");
  expect(page.status).toBe(200);
  const code = await nextCode(email, seen);
  return b.go("/dashboard/sign-in/code", { code, _csrf: csrfOf(page.text) });
}

/** The passkey ceremony a page's script runs: the client API with the page's publishable key. */
async function clientApi(path: string, publishableKey: string, body: unknown) {
  const res = await fetch(`${gw}${path}`, {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${publishableKey}:`).toString("base64")}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { result: Record<string, unknown> | null; errors: unknown[] };
  if (res.status !== 200 || !json.result) throw new Error(`${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return json.result;
}

const authenticator = new SoftAuthenticator();
let op: Browser;
let orgA: string;
let orgB: string;

test("the operator invites an admin in the console (audited)", async () => {
  orgA = (await createOrganization(gw, stack.operatorToken, "Org A")).organization.id;
  orgB = (await createOrganization(gw, stack.operatorToken, "Org B")).organization.id;
  op = new Browser();
  expect((await op.go("/dashboard/sign-in", { token: stack.operatorToken })).status).toBe(303);
  const page = await op.go(`/dashboard/organizations/${orgA}/admins`);
  expect(page.status).toBe(200);
  const invited = await op.go(`/dashboard/organizations/${orgA}/admins`, { email: "Alice@Example.com", _csrf: csrfOf(page.text) });
  expect(invited).toMatchObject({ status: 303, location: `/dashboard/organizations/${orgA}/admins?done=invited` });
  const list = await op.go(`/dashboard/organizations/${orgA}/admins`);
  expect(list.text).toContain("alice@example.com");
  expect(list.text).toContain("invited");
});

test("an unknown address: the same answers, a wrong-or-expired code, and no mail", async () => {
  const b = new Browser();
  const step1 = await b.go("/dashboard/sign-in/email", { email: "nobody@example.com" });
  expect(step1).toMatchObject({ status: 303, location: "/dashboard/sign-in/code" });
  const page = await b.go("/dashboard/sign-in/code");
  expect(page.text).toContain("If <strong>nobody@example.com</strong> belongs to an organization admin");
  const answer = await b.go("/dashboard/sign-in/code", { code: "123456", _csrf: csrfOf(page.text) });
  expect(answer.status).toBe(401);
  expect(answer.text).toContain("That code is wrong or has expired.");
  expect([...b.cookies.keys()].some((k) => k === "authplane_dashboard")).toBe(false);
  await new Promise((r) => setTimeout(r, 500));
  expect(await outbox("nobody@example.com")).toEqual([]);
});

test("first sign-in: a wrong code answers like an unknown address; the right one signs in to its organization only", async () => {
  const b = new Browser();
  const seen = (await outbox("alice@example.com")).length;
  await b.go("/dashboard/sign-in/email", { email: "alice@example.com" });
  const page = await b.go("/dashboard/sign-in/code");
  const code = await nextCode("alice@example.com", seen);
  const wrongCode = code === "000000" ? "111111" : "000000";
  const wrong = await b.go("/dashboard/sign-in/code", { code: wrongCode, _csrf: csrfOf(page.text) });
  expect(wrong.status).toBe(401);
  expect(wrong.text).toContain("That code is wrong or has expired.");
  const ok = await b.go("/dashboard/sign-in/code", { code, _csrf: csrfOf(page.text) });
  expect(ok).toMatchObject({ status: 303, location: "/dashboard/account/passkey?first=1" });
  expect(b.cookies.has("authplane_dashboard")).toBe(true);
  expect(b.cookies.has("authplane_dashboard_pending")).toBe(false);

  expect((await b.go("/dashboard/")).location).toBe(`/dashboard/organizations/${orgA}`);
  expect((await b.go(`/dashboard/organizations/${orgA}`)).status).toBe(200);
  expect((await b.go(`/dashboard/organizations/${orgB}`)).status).toBe(404);
  expect((await b.go(`/dashboard/organizations/${orgB}/admins`)).status).toBe(404);
  // The invite is accepted; the sign-in is in the audit log with the admin as actor.
  const list = await op.go(`/dashboard/organizations/${orgA}/admins`);
  expect(list.text).toMatch(/alice@example\.com<\/td>\s*<td><span class="status-active">active/);
  const audit = await op.go(`/dashboard/audit?organizationId=${orgA}`);
  expect(audit.text).toContain("session.sign_in");
  expect(audit.text).toContain("alice@example.com");

  // Register a passkey, as the page's script does: no secret key on the page.
  const passkeyPage = await b.go("/dashboard/account/passkey?first=1");
  expect(passkeyPage.status).toBe(200);
  expect(passkeyPage.text).not.toMatch(/sk_(live|test)_/);
  const pk = attr(passkeyPage.text, "data-publishable-key");
  expect(pk).toMatch(/^pk_live_/);
  const options = (await clientApi("/attestation/options", pk, { user: { username: "alice@example.com" } })) as {
    publicKey: Parameters<SoftAuthenticator["register"]>[0];
  };
  const credential = authenticator.register(options.publicKey, { origin: consoleOrigin });
  const { token } = (await clientApi("/attestation/process", pk, { credential })) as { token: string };
  const registered = await b.go("/dashboard/account/passkey", { token, _csrf: csrfOf(passkeyPage.text) });
  expect(registered).toMatchObject({ status: 303, location: "/dashboard/account/passkey?done=1" });
  expect((await op.go(`/dashboard/audit?organizationId=${orgA}`)).text).toContain("admin.passkey_register");
  // Sign out.
  const signedIn = await b.go(`/dashboard/organizations/${orgA}`);
  expect((await b.go("/dashboard/sign-out", { _csrf: csrfOf(signedIn.text) })).status).toBe(303);
});

test("later sign-ins take the code and then the passkey; a bad or replayed passkey token is refused", async () => {
  const b = new Browser();
  const afterCode = await emailAndCode(b, "alice@example.com");
  expect(afterCode).toMatchObject({ status: 303, location: "/dashboard/sign-in/passkey" });
  expect(b.cookies.has("authplane_dashboard")).toBe(false);
  const step = await b.go("/dashboard/sign-in/passkey");
  expect(step.status).toBe(200);
  const pk = attr(step.text, "data-publishable-key");
  const userId = attr(step.text, "data-user-id");
  const csrf = csrfOf(step.text);

  expect((await b.go("/dashboard/sign-in/passkey", { token: "atn_forged0000000000000000", _csrf: csrf })).status).toBe(401);

  const options = (await clientApi("/assertion/options", pk, { user: { id: userId } })) as {
    publicKey: Parameters<SoftAuthenticator["authenticate"]>[0];
  };
  const credential = authenticator.authenticate(options.publicKey, { origin: consoleOrigin });
  const { token } = (await clientApi("/assertion/process", pk, { credential, user: { id: userId } })) as { token: string };
  const ok = await b.go("/dashboard/sign-in/passkey", { token, _csrf: csrf });
  expect(ok).toMatchObject({ status: 303, location: "/dashboard/" });
  expect((await b.go(`/dashboard/organizations/${orgA}`)).status).toBe(200);

  // The same (spent) token in another sign-in at the passkey step: refused.
  const other = new Browser();
  await emailAndCode(other, "alice@example.com");
  const otherStep = await other.go("/dashboard/sign-in/passkey");
  expect((await other.go("/dashboard/sign-in/passkey", { token, _csrf: csrfOf(otherStep.text) })).status).toBe(401);
  expect(other.cookies.has("authplane_dashboard")).toBe(false);
});

test("an address invited to two organizations chooses one; the session sees only that one", async () => {
  const page = await op.go(`/dashboard/organizations/${orgB}/admins`);
  await op.go(`/dashboard/organizations/${orgB}/admins`, { email: "alice@example.com", _csrf: csrfOf(page.text) });
  const b = new Browser();
  expect((await emailAndCode(b, "alice@example.com")).location).toBe("/dashboard/sign-in/passkey");
  const step = await b.go("/dashboard/sign-in/passkey");
  const pk = attr(step.text, "data-publishable-key");
  const userId = attr(step.text, "data-user-id");
  const options = (await clientApi("/assertion/options", pk, { user: { id: userId } })) as {
    publicKey: Parameters<SoftAuthenticator["authenticate"]>[0];
  };
  const credential = authenticator.authenticate(options.publicKey, { origin: consoleOrigin });
  const { token } = (await clientApi("/assertion/process", pk, { credential, user: { id: userId } })) as { token: string };
  expect((await b.go("/dashboard/sign-in/passkey", { token, _csrf: csrfOf(step.text) })).location).toBe("/dashboard/sign-in/organization");
  const choose = await b.go("/dashboard/sign-in/organization");
  expect(choose.text).toContain(orgA);
  expect(choose.text).toContain(orgB);
  // Not one of its organizations: refused.
  expect(
    (await b.go("/dashboard/sign-in/organization", { organizationId: "org_01JAAAAAAAAAAAAAAAAAAAAAAA", _csrf: csrfOf(choose.text) }))
      .status,
  ).toBe(404);
  const chosen = await b.go("/dashboard/sign-in/organization", { organizationId: orgB, _csrf: csrfOf(choose.text) });
  expect(chosen).toMatchObject({ status: 303, location: "/dashboard/" });
  expect((await b.go("/dashboard/")).location).toBe(`/dashboard/organizations/${orgB}`);
  expect((await b.go(`/dashboard/organizations/${orgA}`)).status).toBe(404);
});

test("the console organization's secret key revoked through the console: the next passkey sign-in issues a new one and succeeds", async () => {
  const list = await op.go(`/dashboard/organizations?q=${encodeURIComponent("authplane console")}`);
  const consoleOrg = /\/dashboard\/organizations\/(org_[0-9A-Z]{26})/.exec(list.text)?.[1];
  expect(consoleOrg).toBeDefined();
  const keys = await op.go(`/dashboard/organizations/${consoleOrg}`);
  const live = keys.text.split('id="keys-test"')[0] ?? "";
  const secretRow = live.split("<tr>").find((row) => row.includes("<td>secret</td>") && row.includes("/revoke"));
  const revokeAction = /action="([^"]+\/revoke)"/.exec(secretRow ?? "")?.[1];
  expect(revokeAction).toBeDefined();
  expect((await op.go(revokeAction as string, { _csrf: csrfOf(keys.text) })).status).toBe(303);

  const b = new Browser();
  expect((await emailAndCode(b, "alice@example.com")).location).toBe("/dashboard/sign-in/passkey");
  const step = await b.go("/dashboard/sign-in/passkey");
  const pk = attr(step.text, "data-publishable-key");
  const userId = attr(step.text, "data-user-id");
  const options = (await clientApi("/assertion/options", pk, { user: { id: userId } })) as {
    publicKey: Parameters<SoftAuthenticator["authenticate"]>[0];
  };
  const credential = authenticator.authenticate(options.publicKey, { origin: consoleOrigin });
  const { token } = (await clientApi("/assertion/process", pk, { credential, user: { id: userId } })) as { token: string };
  expect((await b.go("/dashboard/sign-in/passkey", { token, _csrf: csrfOf(step.text) })).location).toBe("/dashboard/sign-in/organization");
  // A new live secret key was issued for the console organization (the revoked one stays revoked).
  const after = (await op.go(`/dashboard/organizations/${consoleOrg}`)).text.split('id="keys-test"')[0] ?? "";
  const activeSecrets = after.split("<tr>").filter((row) => row.includes("<td>secret</td>") && row.includes("status-active"));
  expect(activeSecrets).toHaveLength(1);
  expect(activeSecrets[0]).not.toContain(revokeAction as string);
});
