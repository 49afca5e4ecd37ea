import { createTestIsolation } from "@authplane/service-kit/testing";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";
import type { AppDeps } from "../src/deps.js";
import { type Browser, csrfOf, orgAdminBrowser, postForm, sessionCookieOf, signIn } from "./support/dashboard.js";
import { request } from "./support/harness.js";

// Issue 14: the web console's core — sign-in, sessions, CSRF, organizations, keys, settings, audit.

const iso = createTestIsolation();
let admin: AdminKeyTestHandle & { deps: AppDeps };
let op: Browser;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso, { env: { DASHBOARD_SIGN_IN_ATTEMPTS: "4" } });
  op = await signIn(admin.app, admin.operatorToken);
});
afterAll(async () => {
  await admin?.stop();
  await iso.cleanup();
});

const get = (url: string, b: Browser | null = op) => {
  const r = request(admin.app).get(url);
  return b ? r.set("Cookie", b.cookie) : r;
};

async function createOrgViaConsole(name: string): Promise<{ id: string; text: string }> {
  const res = await postForm(admin.app, op, "/dashboard/organizations", { name }).expect(200);
  const id = /\/dashboard\/organizations\/(org_[0-9A-Z]{26})/.exec(res.text)?.[1];
  if (!id) throw new Error("no organization link");
  return { id, text: res.text };
}

describe("sign-in", () => {
  it("a wrong token is refused with a generic message and no cookie; the right one gives a session cookie", async () => {
    const ip = "198.51.100.10";
    const wrong = await request(admin.app)
      .post("/dashboard/sign-in")
      .set("X-Forwarded-For", ip)
      .type("form")
      .send({ token: "nope" })
      .expect(401);
    expect(wrong.text).toContain("Sign-in failed.");
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    const empty = await request(admin.app).post("/dashboard/sign-in").set("X-Forwarded-For", ip).type("form").send({}).expect(401);
    expect(empty.headers["set-cookie"]).toBeUndefined();

    const ok = await request(admin.app)
      .post("/dashboard/sign-in")
      .set("X-Forwarded-For", ip)
      .type("form")
      .send({ token: admin.operatorToken, name: "Ada", next: "/dashboard/audit" })
      .expect(303);
    expect(ok.headers.location).toBe("/dashboard/audit");
    const setCookie = (ok.headers["set-cookie"] as unknown as string[])[0] ?? "";
    // Development (no DASHBOARD_SECURE_COOKIE, not production): no Secure, path-scoped, HttpOnly, Strict.
    expect(setCookie).toMatch(/^authplane_dashboard=[A-Za-z0-9_-]{43}; Path=\/dashboard; HttpOnly; SameSite=Strict$/);
    // The table holds a hash, never the token.
    const token = setCookie.split(";")[0]?.split("=")[1] ?? "";
    const rows = await admin.deps.prisma.dashboardSession.findMany();
    expect(JSON.stringify(rows)).not.toContain(token);
    // The audit log names the operator by the name given.
    const audit = await admin.deps.prisma.dashboardAuditEvent.findFirst({
      where: { action: "session.sign_in", actorLabel: "operator (Ada)" },
    });
    expect(audit).not.toBeNull();
  });

  it("an open redirect through `next` is refused", async () => {
    for (const next of ["https://evil.example/", "//evil.example/", "/dashboard/../api/v1/keys", "/elsewhere"]) {
      const res = await request(admin.app)
        .post("/dashboard/sign-in")
        .set("X-Forwarded-For", "198.51.100.11")
        .type("form")
        .send({ token: admin.operatorToken, next })
        .expect(303);
      expect(res.headers.location).toBe("/dashboard/");
    }
  });

  it("attempts are limited per client IP: after DASHBOARD_SIGN_IN_ATTEMPTS, even the right token gets 429", async () => {
    const ip = "198.51.100.12";
    const attempt = (token: string, from = ip) =>
      request(admin.app).post("/dashboard/sign-in").set("X-Forwarded-For", from).type("form").send({ token });
    for (let i = 0; i < 4; i++) await attempt("wrong").expect(401);
    const limited = await attempt(admin.operatorToken).expect(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["content-type"]).toMatch(/^text\/html/);
    expect(limited.headers["set-cookie"]).toBeUndefined();
    // Another client is not affected; a success gives its point back.
    for (let i = 0; i < 6; i++) await attempt(admin.operatorToken, "198.51.100.13").expect(303);
  });

  it("sign-out ends the session on the server and clears the cookie", async () => {
    const b = await signIn(admin.app, admin.operatorToken, "198.51.100.14");
    const res = await postForm(admin.app, b, "/dashboard/sign-out", {}).expect(303);
    expect(res.headers.location).toBe("/dashboard/sign-in");
    expect(String(res.headers["set-cookie"])).toMatch(/authplane_dashboard=; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=0/);
    const after = await get("/dashboard/organizations", b).expect(303);
    expect(after.headers.location).toMatch(/^\/dashboard\/sign-in\?/);
  });
});

describe("sessions", () => {
  it("signed out, every page redirects to the sign-in page (with where to come back) and every form too", async () => {
    const org = await admin.createOrganization({ name: "Signed out" });
    const pages = [
      "/dashboard",
      "/dashboard/organizations",
      `/dashboard/organizations/${org.organization.id}`,
      `/dashboard/organizations/${org.organization.id}/settings`,
      "/dashboard/audit",
    ];
    for (const url of pages) {
      const res = await get(url, null).expect(303);
      expect(res.headers.location).toBe(
        url === "/dashboard" ? "/dashboard/sign-in" : `/dashboard/sign-in?${new URLSearchParams({ next: url })}`,
      );
    }
    const post = await request(admin.app).post("/dashboard/organizations").type("form").send({ name: "x" }).expect(303);
    expect(post.headers.location).toBe("/dashboard/sign-in");
    expect(await admin.deps.prisma.organization.count({ where: { name: "x" } })).toBe(0);
    // The sign-in page itself.
    const signInPage = await get("/dashboard/sign-in", null).expect(200);
    expect(signInPage.text).toContain('<label for="token">Operator token</label>');
  });

  it("signed in, every page answers 200", async () => {
    const org = await admin.createOrganization({ name: "Signed in" });
    for (const url of [
      "/dashboard/organizations",
      "/dashboard/organizations?q=Signed",
      `/dashboard/organizations/${org.organization.id}`,
      `/dashboard/organizations/${org.organization.id}/settings`,
      "/dashboard/audit",
      `/dashboard/audit?organizationId=${org.organization.id}`,
    ]) {
      const res = await get(url).expect(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-store");
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      // No inline script or style: only the console's own files.
      expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(res.text).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
      expect(res.text).toContain('<a class="skip-link" href="#main">');
      expect(res.text).toContain('<main id="main"');
    }
    expect((await get("/dashboard").expect(303)).headers.location).toBe("/dashboard/organizations");
    expect((await get("/dashboard/").expect(303)).headers.location).toBe("/dashboard/organizations");
    expect((await get("/dashboard/sign-in").expect(303)).headers.location).toBe("/dashboard/");
    const css = await get("/dashboard/assets/dashboard.css", null).expect(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect(css.text).toContain(":focus-visible");
    await get("/dashboard/assets/dashboard.js", null).expect(200);
    const missing = await get("/dashboard/assets/..%2Fpackage.json", null).expect(404);
    expect(missing.headers["content-type"]).toMatch(/^text\/html/);
    const notFound = await get("/dashboard/nope").expect(404);
    expect(notFound.headers["content-type"]).toMatch(/^text\/html/);
    expect(notFound.text).toContain('<nav aria-label="Main">');
    expect((await get("/dashboard/nope", null).expect(404)).text).not.toContain('<nav aria-label="Main">');
  });

  it("idle timeout: a session unused for DASHBOARD_IDLE_TIMEOUT_SECONDS is over", async () => {
    const b = await signIn(admin.app, admin.operatorToken, "198.51.100.20");
    await get("/dashboard/organizations", b).expect(200);
    await admin.deps.prisma.dashboardSession.updateMany({
      where: { revokedAt: null, principalKind: "operator" },
      data: { lastSeenAt: new Date(Date.now() - 1801_000) },
    });
    const res = await get("/dashboard/organizations", b).expect(303);
    expect(res.headers.location).toBe("/dashboard/sign-in?next=%2Fdashboard%2Forganizations&expired=1");
    expect(String(res.headers["set-cookie"])).toContain("Max-Age=0");
    const page = await get(res.headers.location ?? "", null).expect(200);
    expect(page.text).toContain("Your session ended.");
    // Just within the idle timeout, a session lives on (and its clock restarts).
    op = await signIn(admin.app, admin.operatorToken, "198.51.100.21");
    await admin.deps.prisma.dashboardSession.updateMany({
      where: { revokedAt: null, principalKind: "operator" },
      data: { lastSeenAt: new Date(Date.now() - 1700_000) },
    });
    await get("/dashboard/organizations").expect(200);
    const row = await admin.deps.prisma.dashboardSession.findFirst({ where: { revokedAt: null }, orderBy: { lastSeenAt: "desc" } });
    expect(Date.now() - (row?.lastSeenAt.getTime() ?? 0)).toBeLessThan(60_000);
  });

  it("absolute timeout: DASHBOARD_ABSOLUTE_TIMEOUT_SECONDS after sign-in the session is over, however active", async () => {
    const b = await signIn(admin.app, admin.operatorToken, "198.51.100.22");
    const rows = await admin.deps.prisma.dashboardSession.findMany({ where: { revokedAt: null }, orderBy: { createdAt: "desc" }, take: 1 });
    const row = rows[0];
    if (!row) throw new Error("no session");
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(43_200_000);
    await admin.deps.prisma.dashboardSession.update({
      where: { id: row.id },
      data: { expiresAt: new Date(Date.now() - 1000), lastSeenAt: new Date() },
    });
    await get("/dashboard/organizations", b).expect(303);
  });
});

describe("CSRF", () => {
  it("a state-changing request without the token, with a wrong one, or cross-site is refused and changes nothing", async () => {
    const before = await admin.deps.prisma.organization.count();
    const base = () =>
      request(admin.app).post("/dashboard/organizations").set("Cookie", op.cookie).set("Host", "console.test").type("form");
    const noToken = await base().send({ name: "csrf-1" }).expect(403);
    expect(noToken.headers["content-type"]).toMatch(/^text\/html/);
    await base()
      .send({ name: "csrf-2", _csrf: "x".repeat(43) })
      .expect(403);
    await base().set("Origin", "https://evil.example").send({ name: "csrf-3", _csrf: op.csrf }).expect(403);
    await base().set("Origin", "null").send({ name: "csrf-4", _csrf: op.csrf }).expect(403);
    await base().set("Sec-Fetch-Site", "cross-site").send({ name: "csrf-5", _csrf: op.csrf }).expect(403);
    await base().set("Sec-Fetch-Site", "same-site").send({ name: "csrf-6", _csrf: op.csrf }).expect(403);
    // Another session's token is not this session's.
    const other = await signIn(admin.app, admin.operatorToken, "198.51.100.30");
    await base().send({ name: "csrf-7", _csrf: other.csrf }).expect(403);
    expect(await admin.deps.prisma.organization.count()).toBe(before);
    // The header form (fetch) is accepted, same-origin.
    await base().set("X-CSRF-Token", op.csrf).set("Origin", "http://console.test").send({ name: "csrf-ok" }).expect(200);
    expect(await admin.deps.prisma.organization.count()).toBe(before + 1);
    // Sign-in, with no session yet, refuses cross-site posts too.
    await request(admin.app)
      .post("/dashboard/sign-in")
      .set("Sec-Fetch-Site", "cross-site")
      .set("X-Forwarded-For", "198.51.100.31")
      .type("form")
      .send({ token: admin.operatorToken })
      .expect(403);
  });
});

describe("hostile input", () => {
  it("a NUL in a form, or a prototype key, is a 400 page and nothing is created", async () => {
    const before = await admin.deps.prisma.organization.count();
    const nul = await postForm(admin.app, op, "/dashboard/organizations", { name: "a\u0000b" }).expect(400);
    expect(nul.headers["content-type"]).toMatch(/^text\/html/);
    expect(nul.text).toContain("must not contain NUL characters");
    await postForm(admin.app, op, "/dashboard/organizations", { name: "ok", constructor: "x" }).expect(400);
    expect(await admin.deps.prisma.organization.count()).toBe(before);
    // A malformed organization id in a path is the 404 of an unknown one.
    await get("/dashboard/organizations/not-an-id").expect(404);
    await get("/dashboard/organizations/org_01HZZZZZZZZZZZZZZZZZZZZZZZ").expect(404);
  });
});

describe("organizations", () => {
  it("create shows the four keys once; search by name or id finds it", async () => {
    const { id, text } = await createOrgViaConsole("Rocket Shoes");
    expect(text).toMatch(/value="sk_live_[A-Za-z0-9]{32}"/);
    expect(text).toMatch(/value="pk_test_[A-Za-z0-9]{32}"/);
    expect(text).toContain("only time it is shown");
    const org = await admin.deps.prisma.organization.findUnique({ where: { id } });
    expect(org?.name).toBe("Rocket Shoes");

    const byName = await get("/dashboard/organizations?q=rocket").expect(200);
    expect(byName.text).toContain(id);
    const byId = await get(`/dashboard/organizations?q=${id}`).expect(200);
    expect(byId.text).toContain("Rocket Shoes");
    const none = await get("/dashboard/organizations?q=zzz-no-such").expect(200);
    expect(none.text).not.toContain(id);
    expect(none.text).toContain("No organization matches");
    // The organization page never shows a key again.
    const keys = await get(`/dashboard/organizations/${id}`).expect(200);
    expect(keys.text).not.toMatch(/sk_live_[A-Za-z0-9]{32}/);
    expect(keys.text).toMatch(/sk_live_…[A-Za-z0-9]{4}/);

    const audit = await admin.deps.prisma.dashboardAuditEvent.findFirst({ where: { action: "organization.create", organizationId: id } });
    expect(audit).toMatchObject({ actorKind: "operator", target: id, details: { name: "Rocket Shoes" } });
  });

  it("an empty or too long name is refused next to the field, nothing created", async () => {
    const before = await admin.deps.prisma.organization.count();
    const res = await postForm(admin.app, op, "/dashboard/organizations", { name: "   " }).expect(400);
    expect(res.text).toContain('aria-describedby="name-hint name-error"');
    expect(res.text).toContain('<p class="field-error" id="name-error">must be 1 to 200 characters</p>');
    expect(await admin.deps.prisma.organization.count()).toBe(before);
  });

  it("hostile organization names are text, never markup", async () => {
    const name = `<script>alert("x")</script><img src=x onerror=alert(1)>'&`;
    const { id } = await createOrgViaConsole(name);
    for (const url of ["/dashboard/organizations", `/dashboard/organizations/${id}`, `/dashboard/organizations/${id}/settings`]) {
      const res = await get(url).expect(200);
      expect(res.text).not.toContain("<script>alert");
      expect(res.text).not.toContain("<img src=x");
      expect(res.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;");
    }
    // In the search box too (a reflected value).
    const search = await get(`/dashboard/organizations?q=${encodeURIComponent('"><script>x</script>')}`).expect(200);
    expect(search.text).not.toContain("<script>x");
    expect(search.text).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  it("an organization admin sees its own organization only (another is a 404) and cannot create organizations", async () => {
    const mine = await admin.createOrganization({ name: "Mine" });
    const theirs = await admin.createOrganization({ name: "Theirs" });
    const b = await orgAdminBrowser(admin.app, admin.deps, mine.organization.id);
    const list = await get("/dashboard/organizations", b).expect(200);
    expect(list.text).toContain(mine.organization.id);
    expect(list.text).not.toContain(theirs.organization.id);
    expect(list.text).not.toContain("Create an organization");
    await get(`/dashboard/organizations/${theirs.organization.id}`, b).expect(404);
    await get(`/dashboard/organizations/${theirs.organization.id}/settings`, b).expect(404);
    const keys = await admin.deps.prisma.apiKey.findFirst({ where: { organizationId: theirs.organization.id } });
    await postForm(admin.app, b, `/dashboard/organizations/${theirs.organization.id}/keys/${keys?.id}/revoke`, {}).expect(404);
    expect((await admin.deps.prisma.apiKey.findUnique({ where: { id: keys?.id ?? "" } }))?.revokedAt).toBeNull();
    await postForm(admin.app, b, "/dashboard/organizations", { name: "Nope" }).expect(403);
    expect((await get("/dashboard", b).expect(303)).headers.location).toBe(`/dashboard/organizations/${mine.organization.id}`);
    const audit = await get(`/dashboard/audit?organizationId=${theirs.organization.id}`, b).expect(200);
    expect(audit.text).toContain("No events.");
  });
});

describe("keys", () => {
  it("create shows the secret once, and it works against the Admin API in its mode", async () => {
    const org = await admin.createOrganization({ name: "Keys" });
    const id = org.organization.id;
    const res = await postForm(admin.app, op, `/dashboard/organizations/${id}/keys`, { mode: "test", kind: "secret" }).expect(200);
    const value = /id="new-key" type="text" readonly value="(sk_test_[A-Za-z0-9]{32})"/.exec(res.text)?.[1];
    expect(value).toBeDefined();
    expect(res.text).toContain(`value="secret_${value}"`);
    expect(res.text).toContain('data-copy="new-key"');
    const listed = await request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${value}`).expect(200);
    expect(listed.body.keys.every((k: { mode: string }) => k.mode === "test")).toBe(true);
    // Never shown again, never in the audit log.
    const page = await get(`/dashboard/organizations/${id}`).expect(200);
    expect(page.text).not.toContain(value);
    const audit = await admin.deps.prisma.dashboardAuditEvent.findFirst({ where: { action: "key.create", organizationId: id } });
    expect(audit).toMatchObject({ mode: "test", details: { kind: "secret", prefix: "sk_test_", last4: value?.slice(-4) } });
    expect(JSON.stringify(audit)).not.toContain(value);
  });

  it("rotate with a chosen grace period: the old key works until then; with none it stops at once", async () => {
    const org = await admin.createOrganization({ name: "Rotate" });
    const id = org.organization.id;
    const oldKey = await admin.deps.prisma.apiKey.findFirstOrThrow({ where: { organizationId: id, mode: "live", kind: "secret" } });
    const res = await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${oldKey.id}/rotate`, {
      expiresInSeconds: "3600",
    }).expect(200);
    const value = /id="new-key" type="text" readonly value="(sk_live_[A-Za-z0-9]{32})"/.exec(res.text)?.[1] ?? "";
    expect(res.text).toContain("keeps working until");
    await request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${org.keys.secret.live}`).expect(200);
    await request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${value}`).expect(200);
    const rotated = await admin.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: oldKey.id } });
    expect(Math.abs((rotated.expiresAt?.getTime() ?? 0) - (Date.now() + 3600_000))).toBeLessThan(30_000);
    const audit = await admin.deps.prisma.dashboardAuditEvent.findFirst({ where: { action: "key.rotate", target: oldKey.id } });
    expect(audit?.details).toMatchObject({ expiresInSeconds: 3600, prefix: "sk_live_" });
    expect(JSON.stringify(audit)).not.toContain(value);

    // Rotating the rotated key again: 409, nothing issued.
    await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${oldKey.id}/rotate`, { expiresInSeconds: "0" }).expect(409);
    // The new one, with no grace: it stops at once.
    const newId = rotated.rotatedToKeyId ?? "";
    await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${newId}/rotate`, { expiresInSeconds: "0" }).expect(200);
    await request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${value}`).expect(401);
    // A grace period the API does not allow is refused.
    const test = await admin.deps.prisma.apiKey.findFirstOrThrow({ where: { organizationId: id, mode: "test", kind: "secret" } });
    await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${test.id}/rotate`, { expiresInSeconds: "99999999" }).expect(400);
    // Another organization's key through this organization's path: 404.
    const other = await admin.createOrganization({ name: "Other" });
    const otherKey = await admin.deps.prisma.apiKey.findFirstOrThrow({ where: { organizationId: other.organization.id } });
    await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${otherKey.id}/rotate`, { expiresInSeconds: "0" }).expect(404);
  });

  it("revoke: the key stops working at once, and the change is audited", async () => {
    const org = await admin.createOrganization({ name: "Revoke" });
    const id = org.organization.id;
    const key = await admin.deps.prisma.apiKey.findFirstOrThrow({ where: { organizationId: id, mode: "live", kind: "secret" } });
    const res = await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${key.id}/revoke`, {}).expect(303);
    expect(res.headers.location).toBe(`/dashboard/organizations/${id}?done=key-revoked`);
    await request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${org.keys.secret.live}`).expect(401);
    const page = await get(res.headers.location ?? "").expect(200);
    expect(page.text).toContain("The key was revoked.");
    expect(page.text).toContain('<span class="status-revoked">revoked</span>');
    expect(await admin.deps.prisma.dashboardAuditEvent.count({ where: { action: "key.revoke", target: key.id } })).toBe(1);
    // Revoking again changes nothing and is not audited twice.
    await postForm(admin.app, op, `/dashboard/organizations/${id}/keys/${key.id}/revoke`, {}).expect(303);
    expect(await admin.deps.prisma.dashboardAuditEvent.count({ where: { action: "key.revoke", target: key.id } })).toBe(1);
  });
});

describe("settings", () => {
  const form = (over: Record<string, string> = {}) => ({
    accessTokenTtlSeconds: "3600",
    refreshTokenTtlSeconds: "2592000",
    sessionLifetimeSeconds: "2592000",
    webauthnRpId: "",
    webauthnRpName: "",
    webauthnOrigins: "",
    allowedOrigins: "",
    smsAllowedCountries: "",
    ...over,
  });

  it("a change of one mode is persisted (what the Admin API reads), audited, and leaves the other mode alone", async () => {
    const org = await admin.createOrganization({ name: "Settings" });
    const id = org.organization.id;
    const res = await postForm(
      admin.app,
      op,
      `/dashboard/organizations/${id}/settings/live`,
      form({
        accessTokenTtlSeconds: "600",
        webauthnRpId: "shop.example",
        webauthnRpName: "Shop",
        webauthnOrigins: "https://shop.example\nhttps://www.shop.example",
        webauthnRequireUv: "on",
        allowedOrigins: "https://shop.example",
        smsAllowedCountries: "fr, de",
      }),
    ).expect(303);
    expect(res.headers.location).toBe(`/dashboard/organizations/${id}/settings?saved=live`);
    const live = await request(admin.app)
      .get("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${org.keys.secret.live}`)
      .expect(200);
    expect(live.body.settings).toMatchObject({
      accessTokenTtlSeconds: 600,
      webauthn: {
        rpId: "shop.example",
        rpName: "Shop",
        origins: ["https://shop.example", "https://www.shop.example"],
        requireUserVerification: true,
      },
      allowedOrigins: ["https://shop.example"],
      smsAllowedCountries: ["DE", "FR"],
    });
    const test = await request(admin.app)
      .get("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${org.keys.secret.test}`)
      .expect(200);
    expect(test.body.settings).toMatchObject({ accessTokenTtlSeconds: 3600, webauthn: null, allowedOrigins: [], smsAllowedCountries: [] });

    const audit = await admin.deps.prisma.dashboardAuditEvent.findFirst({ where: { action: "settings.update", organizationId: id } });
    expect(audit).toMatchObject({ mode: "live", actorKind: "operator" });
    expect((audit?.details as { fields: string[] } | undefined)?.fields.sort()).toEqual([
      "accessTokenTtlSeconds",
      "allowedOrigins",
      "smsAllowedCountries",
      "webauthn",
    ]);

    const page = await get(res.headers.location ?? "").expect(200);
    expect(page.text).toContain("The live settings were saved.");
    expect(page.text).toContain('id="live-webauthnRequireUv" name="webauthnRequireUv" checked');
    // Saving the same values again changes nothing and writes no audit row.
    const again = await postForm(admin.app, op, `/dashboard/organizations/${id}/settings/live`, {
      ...form({
        accessTokenTtlSeconds: "600",
        webauthnRpId: "shop.example",
        webauthnRpName: "Shop",
        webauthnOrigins: "https://shop.example\nhttps://www.shop.example",
        webauthnRequireUv: "on",
        allowedOrigins: "https://shop.example",
        smsAllowedCountries: "DE, FR",
      }),
    }).expect(303);
    expect(again.headers.location).toContain("saved=live-unchanged");
    expect(await admin.deps.prisma.dashboardAuditEvent.count({ where: { action: "settings.update", organizationId: id } })).toBe(1);
  });

  it("invalid input: the API's own messages next to the field (aria-describedby), nothing persisted or audited", async () => {
    const org = await admin.createOrganization({ name: "Invalid settings" });
    const id = org.organization.id;
    const post = (over: Record<string, string>) => postForm(admin.app, op, `/dashboard/organizations/${id}/settings/test`, form(over));

    const ttl = await post({ accessTokenTtlSeconds: "10" }).expect(400);
    expect(ttl.text).toMatch(/aria-describedby="test-accessTokenTtlSeconds-hint test-accessTokenTtlSeconds-error" aria-invalid="true"/);
    expect(ttl.text).toMatch(/<p class="field-error" id="test-accessTokenTtlSeconds-error">[^<]*60[^<]*<\/p>/);
    expect(ttl.text).toContain('value="10"');

    const order = await post({ accessTokenTtlSeconds: "7200", refreshTokenTtlSeconds: "3600" }).expect(400);
    expect(order.text).toContain('id="test-refreshTokenTtlSeconds-error">must not be shorter than accessTokenTtlSeconds</p>');

    const notNumber = await post({ sessionLifetimeSeconds: "forever" }).expect(400);
    expect(notNumber.text).toContain('id="test-sessionLifetimeSeconds-error">must be a whole number of seconds</p>');

    const rp = await post({
      webauthnRpId: "shop.example",
      webauthnRpName: "Shop",
      webauthnOrigins: "https://shop.example\nhttps://evil.example",
    }).expect(400);
    expect(rp.text).toContain('id="test-webauthnOrigins-error">Line 2: host must be the rpId or a subdomain of it</p>');

    const origins = await post({ allowedOrigins: "http://shop.example" }).expect(400);
    expect(origins.text).toContain('id="test-allowedOrigins-error">Line 1: must use https (http only for localhost)</p>');

    const countries = await post({ smsAllowedCountries: "FRA" }).expect(400);
    expect(countries.text).toContain('id="test-smsAllowedCountries-error">Entry 1: must be an ISO 3166-1 alpha-2 country code</p>');

    const settings = await request(admin.app)
      .get("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${org.keys.secret.test}`)
      .expect(200);
    expect(settings.body.settings).toMatchObject({
      accessTokenTtlSeconds: 3600,
      webauthn: null,
      allowedOrigins: [],
      smsAllowedCountries: [],
    });
    expect(await admin.deps.prisma.dashboardAuditEvent.count({ where: { organizationId: id } })).toBe(0);
  });
});

describe("audit page", () => {
  it("lists console changes, filtered by organization", async () => {
    const a = await createOrgViaConsole("Audited A");
    const b = await createOrgViaConsole("Audited B");
    const all = await get("/dashboard/audit").expect(200);
    expect(all.text).toContain(a.id);
    expect(all.text).toContain(b.id);
    const onlyA = await get(`/dashboard/audit?organizationId=${a.id}`).expect(200);
    expect(onlyA.text).toContain(a.id);
    expect(onlyA.text).not.toContain(b.id);
    expect(onlyA.text).toContain("organization.create");
    const bad = await get("/dashboard/audit?organizationId=nope").expect(200);
    expect(bad.text).toContain("must be an organization id");
    // Never a key in the log.
    const rows = await admin.deps.prisma.dashboardAuditEvent.findMany();
    expect(JSON.stringify(rows)).not.toMatch(/[sp]k_(live|test)_[A-Za-z0-9]{32}/);
    expect(csrfOf(all.text)).toBe(op.csrf);
  });
});

describe("secure cookie (production)", () => {
  let prod: AdminKeyTestHandle & { deps: AppDeps };
  beforeAll(async () => {
    prod = await startAdminKeyInProcess(iso, {
      env: { DASHBOARD_SECURE_COOKIE: "true", DASHBOARD_PUBLIC_ORIGIN: "https://console.example/" },
    });
  });
  afterAll(async () => {
    await prod?.stop();
  });

  it("is __Host- prefixed, Secure, host-only, Path=/ (the prefix requires it), HttpOnly, SameSite=Strict", async () => {
    const res = await request(prod.app)
      .post("/dashboard/sign-in")
      .set("X-Forwarded-For", "198.51.100.40")
      .type("form")
      .send({ token: prod.operatorToken })
      .expect(303);
    const setCookie = (res.headers["set-cookie"] as unknown as string[])[0] ?? "";
    expect(setCookie).toMatch(/^__Host-authplane_dashboard=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toMatch(/Domain=/i);
    const cookie = sessionCookieOf(setCookie) ?? "";
    await request(prod.app).get("/dashboard/organizations").set("Cookie", cookie).expect(200);
    // The development cookie name means nothing here.
    await request(prod.app).get("/dashboard/organizations").set("Cookie", cookie.replace("__Host-", "")).expect(303);
    // DASHBOARD_PUBLIC_ORIGIN is the only Origin a change may come from (whatever the Host says).
    const page = await request(prod.app).get("/dashboard/organizations").set("Cookie", cookie).expect(200);
    const csrf = csrfOf(page.text);
    const create = (origin: string) =>
      request(prod.app)
        .post("/dashboard/organizations")
        .set("Cookie", cookie)
        .set("Host", "internal:4002")
        .set("Origin", origin)
        .type("form")
        .send({ _csrf: csrf, name: `From ${origin}` });
    await create("http://internal:4002").expect(403);
    await create("https://console.example").expect(200);
  });
});
