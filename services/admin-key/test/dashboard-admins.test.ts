import { createHash, randomBytes } from "node:crypto";
import { createTestIsolation } from "@authplane/service-kit/testing";
import type { AppDeps } from "../src/deps.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";
import { type Browser, csrfOf, postForm, signIn } from "./support/dashboard.js";
import { request } from "./support/harness.js";

// Issue 14: organization admins — invites (operator and the organization's own admins), the
// console organization, the uniform email step and its limits, and the tenant boundary from the
// attacker's side. The email-code and passkey sign-in against the real services is in
// infra/e2e/test/dashboard-admins.e2e.test.ts.

const iso = createTestIsolation();
let admin: AdminKeyTestHandle & { deps: AppDeps };
let op: Browser;
let orgA: string;
let orgB: string;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso, {
    // No gateway here: the code is never sent (logged), which the email step's answer must not show.
    env: { DASHBOARD_ADMIN_CODES_PER_EMAIL: "3", DASHBOARD_SIGN_IN_ATTEMPTS: "50", DASHBOARD_API_URL: "http://127.0.0.1:9" },
  });
  op = await signIn(admin.app, admin.operatorToken);
  orgA = (await admin.createOrganization({ name: "Org A" })).organization.id;
  orgB = (await admin.createOrganization({ name: "Org B" })).organization.id;
});
afterAll(async () => {
  await admin?.stop();
  await iso.cleanup();
});

const get = (url: string, b: Browser | null) => {
  const r = request(admin.app).get(url);
  return b ? r.set("Cookie", b.cookie) : r;
};

function invite(b: Browser, organizationId: string, email: string) {
  return postForm(admin.app, b, `/dashboard/organizations/${organizationId}/admins`, { email });
}

/** A console session of the admin row (what the sign-in flow ends with), for boundary tests. */
async function adminSession(adminId: string, organizationId: string, email: string): Promise<Browser> {
  const token = randomBytes(32).toString("base64url");
  await admin.deps.prisma.dashboardSession.create({
    data: {
      id: `dsn_t_${randomBytes(6).toString("hex")}`,
      tokenHash: createHash("sha256").update(`dashboard-session:${token}`).digest("hex"),
      principalKind: "orgAdmin",
      principalId: adminId,
      principalLabel: email,
      organizationId,
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  const cookie = `authplane_dashboard=${token}`;
  const page = await get(`/dashboard/organizations/${organizationId}/admins`, { cookie, csrf: "" }).expect(200);
  return { cookie, csrf: csrfOf(page.text) };
}

describe("invites", () => {
  it("the operator invites by email (normalised), lists, refuses a duplicate or a non-address, and revokes; every change audited", async () => {
    const res = await invite(op, orgA, "  Alice@Example.COM ").expect(303);
    expect(res.headers.location).toBe(`/dashboard/organizations/${orgA}/admins?done=invited`);
    const row = await admin.deps.prisma.dashboardAdmin.findFirstOrThrow({ where: { organizationId: orgA, email: "alice@example.com" } });
    expect(row).toMatchObject({ acceptedAt: null, invitedBy: "operator" });

    const page = await get(`/dashboard/organizations/${orgA}/admins`, op).expect(200);
    expect(page.text).toContain("alice@example.com");
    expect(page.text).toContain("invited");
    expect(page.text).toContain('aria-current="page">Admins');

    const dup = await invite(op, orgA, "alice@example.com").expect(400);
    expect(dup.text).toContain("already an admin");
    const bad = await invite(op, orgA, "not-an-address").expect(400);
    expect(bad.text).toContain('aria-invalid="true"');
    expect(await admin.deps.prisma.dashboardAdmin.count({ where: { organizationId: orgA } })).toBe(1);

    // The same address may administer another organization too.
    await invite(op, orgB, "alice@example.com").expect(303);
    const second = await invite(op, orgA, "temp@example.com").expect(303);
    expect(second.status).toBe(303);
    const temp = await admin.deps.prisma.dashboardAdmin.findFirstOrThrow({ where: { email: "temp@example.com" } });
    await postForm(admin.app, op, `/dashboard/organizations/${orgA}/admins/${temp.id}/remove`, {}).expect(303);
    expect(await admin.deps.prisma.dashboardAdmin.findUnique({ where: { id: temp.id } })).toBeNull();
    // Removing it again: the 404 of an unknown admin, nothing audited.
    await postForm(admin.app, op, `/dashboard/organizations/${orgA}/admins/${temp.id}/remove`, {}).expect(404);

    const audit = await admin.deps.prisma.dashboardAuditEvent.findMany({
      where: { action: { in: ["admin.invite", "admin.remove"] } },
      orderBy: { id: "asc" },
    });
    expect(audit.map((a) => [a.action, a.organizationId, (a.details as { email: string }).email, a.actorKind])).toEqual([
      ["admin.invite", orgA, "alice@example.com", "operator"],
      ["admin.invite", orgB, "alice@example.com", "operator"],
      ["admin.invite", orgA, "temp@example.com", "operator"],
      ["admin.remove", orgA, "temp@example.com", "operator"],
    ]);
    const auditPage = await get(`/dashboard/audit?organizationId=${orgA}`, op).expect(200);
    expect(auditPage.text).toContain("admin.remove");
  });

  it("removing an admin ends their console sessions at once", async () => {
    await invite(op, orgA, "bob@example.com").expect(303);
    const bob = await admin.deps.prisma.dashboardAdmin.findFirstOrThrow({ where: { organizationId: orgA, email: "bob@example.com" } });
    const b = await adminSession(bob.id, orgA, bob.email);
    await postForm(admin.app, op, `/dashboard/organizations/${orgA}/admins/${bob.id}/remove`, {}).expect(303);
    const after = await get(`/dashboard/organizations/${orgA}`, b).expect(303);
    expect(after.headers.location).toMatch(/^\/dashboard\/sign-in\?/);
  });
});

describe("the console organization", () => {
  it("is created once (concurrent first uses), allows the console's origin, and keeps its secret key sealed", async () => {
    const { consoleOrganization } = await import("../src/dashboard/console-org.js");
    const before = await admin.deps.prisma.organization.count();
    // Two "instances" (separate caches) at once: the advisory lock lets one create it.
    const [a, b] = await Promise.all([consoleOrganization({ ...admin.deps }), consoleOrganization({ ...admin.deps })]);
    expect(b).toEqual(a);
    const rows = await admin.deps.prisma.dashboardConsole.findMany();
    expect(rows).toHaveLength(1);
    expect(await admin.deps.prisma.organization.count()).toBe(before + 1);
    expect(a?.publishableKey).toMatch(/^pk_live_/);
    // Stored sealed: the secret key is not in the row.
    expect(rows[0]?.sealedSecretKey).not.toContain(a?.secretKey ?? "x");
    expect(rows[0]?.sealedSecretKey).toMatch(/^v1\./);
    const settings = await admin.deps.prisma.organizationSettings.findFirstOrThrow({
      where: { organizationId: a?.organizationId, mode: "live" },
    });
    expect(settings).toMatchObject({
      webauthnRpId: "localhost",
      webauthnOrigins: ["http://localhost:8080"],
      allowedOrigins: ["http://localhost:8080"],
    });
    // The secret key works (a real, active key of that organization).
    const verify = await request(admin.app)
      .get("/api/v1/organizations/current/settings")
      .set("Authorization", `Bearer ${a?.secretKey}`)
      .expect(200);
    expect(JSON.stringify(verify.body)).toContain('"rpId":"localhost"');

    // Another seal key (DASHBOARD_SEAL_KEY set, or the operator token changed): the box does not
    // open, so a new secret key is issued and sealed, and the old one revoked.
    const resealed = await consoleOrganization({ ...admin.deps, env: { ...admin.deps.env, DASHBOARD_SEAL_KEY: "s".repeat(40) } });
    expect(resealed.organizationId).toBe(a?.organizationId);
    expect(resealed.secretKey).not.toBe(a?.secretKey);
    expect(resealed.publishableKey).toBe(a?.publishableKey);
    expect(await admin.deps.prisma.apiKey.findFirst({ where: { id: rows[0]?.secretKeyId } })).toMatchObject({
      revokedAt: expect.any(Date),
    });
    await request(admin.app).get("/api/v1/organizations/current/settings").set("Authorization", `Bearer ${resealed.secretKey}`).expect(200);
  });
});

describe("email step: one answer for every address, limits", () => {
  function emailStep(email: string, ip: string) {
    return request(admin.app)
      .post("/dashboard/sign-in/email")
      .set("X-Forwarded-For", ip)
      .set("Origin", "http://console.test")
      .set("Host", "console.test")
      .type("form")
      .send({ email });
  }

  it("an invited address and an unknown one get the same redirect, cookie shape and code page", async () => {
    await invite(op, orgA, "carol@example.com").expect(303);
    const known = await emailStep("carol@example.com", "203.0.113.1").expect(303);
    const unknown = await emailStep("nobody@example.com", "203.0.113.2").expect(303);
    expect(known.headers.location).toBe("/dashboard/sign-in/code");
    expect(unknown.headers.location).toBe(known.headers.location);
    const shape = (r: typeof known) => String(r.headers["set-cookie"]).replace(/=[A-Za-z0-9_-]{43};/, "=X;");
    expect(shape(unknown)).toBe(shape(known));
    const cookieOf = (r: typeof known) => String(r.headers["set-cookie"]).split(";")[0] ?? "";
    const pageKnown = await request(admin.app).get("/dashboard/sign-in/code").set("Cookie", cookieOf(known)).expect(200);
    const pageUnknown = await request(admin.app).get("/dashboard/sign-in/code").set("Cookie", cookieOf(unknown)).expect(200);
    const normalise = (t: string) =>
      t.replace(/carol@example\.com|nobody@example\.com/g, "E").replace(/value="[A-Za-z0-9_-]{43}"/g, 'value="T"');
    expect(normalise(pageUnknown.text)).toBe(normalise(pageKnown.text));
    // Not an address: the field's error (that says nothing about admins).
    const bad = await emailStep("nope", "203.0.113.3").expect(400);
    expect(bad.text).toContain("Enter an email address");
    // The code page without a sign-in in progress: back to the sign-in page.
    expect((await request(admin.app).get("/dashboard/sign-in/code").expect(303)).headers.location).toBe("/dashboard/sign-in");
  });

  it("codes per address are limited (from any IP, admin or not); another address is not affected", async () => {
    for (let i = 0; i < 3; i++) await emailStep("dave@example.com", `203.0.113.${10 + i}`).expect(303);
    const refused = await emailStep("Dave@Example.com", "203.0.113.20").expect(429);
    expect(refused.headers["retry-after"]).toBeDefined();
    await emailStep("erin@example.com", "203.0.113.21").expect(303);
  });

  it("the email and code steps spend the per-IP sign-in budget (any address)", async () => {
    const ip = "203.0.113.99";
    for (let i = 0; i < 50; i++) await emailStep(`ip-${i}@example.com`, ip).expect(303);
    const refused = await emailStep("ip-last@example.com", ip).expect(429);
    expect(refused.headers["retry-after"]).toBeDefined();
    await emailStep("ip-last@example.com", "203.0.113.98").expect(303);
  });

  it("the consumer service unreachable: the code step is a 503 page (try again), not a 500, and no session", async () => {
    const started = await emailStep("carol@example.com", "203.0.113.40").expect(303);
    const cookie = String(started.headers["set-cookie"]).split(";")[0] ?? "";
    const page = await request(admin.app).get("/dashboard/sign-in/code").set("Cookie", cookie).expect(200);
    const res = await request(admin.app)
      .post("/dashboard/sign-in/code")
      .set("Cookie", cookie)
      .set("X-Forwarded-For", "203.0.113.40")
      .type("form")
      .send({ code: "123456", _csrf: csrfOf(page.text) })
      .expect(503);
    expect(res.text).toContain("Try again shortly");
    expect(String(res.headers["set-cookie"] ?? "")).not.toMatch(/authplane_dashboard=[A-Za-z0-9_-]{43}/);
    // A malformed code never reaches the service: the same answer as a wrong one.
    const bad = await request(admin.app)
      .post("/dashboard/sign-in/code")
      .set("Cookie", cookie)
      .set("X-Forwarded-For", "203.0.113.40")
      .type("form")
      .send({ code: "abc", _csrf: csrfOf(page.text) })
      .expect(401);
    expect(bad.text).toContain("That code is wrong or has expired.");
  });

  it("a pending sign-in takes 5 codes, then starts over", async () => {
    const started = await emailStep("grace@example.com", "203.0.113.50").expect(303);
    const cookie = String(started.headers["set-cookie"]).split(";")[0] ?? "";
    const csrf = csrfOf((await request(admin.app).get("/dashboard/sign-in/code").set("Cookie", cookie).expect(200)).text);
    const post = () =>
      request(admin.app).post("/dashboard/sign-in/code").set("Cookie", cookie).type("form").send({ code: "x", _csrf: csrf });
    for (let i = 0; i < 5; i++) await post().expect(401);
    const over = await post().expect(303);
    expect(over.headers.location).toBe("/dashboard/sign-in?expired=1");
    expect((await request(admin.app).get("/dashboard/sign-in/code").set("Cookie", cookie).expect(303)).headers.location).toBe(
      "/dashboard/sign-in",
    );
  });

  it("a cross-site post of the email form is refused", async () => {
    await request(admin.app)
      .post("/dashboard/sign-in/email")
      .set("Origin", "https://evil.example")
      .type("form")
      .send({ email: "carol@example.com" })
      .expect(403);
  });

  it("a code post without the pending sign-in's CSRF token is refused; without a pending sign-in it starts again", async () => {
    const started = await emailStep("frank@example.com", "203.0.113.30").expect(303);
    const cookie = String(started.headers["set-cookie"]).split(";")[0] ?? "";
    await request(admin.app).post("/dashboard/sign-in/code").set("Cookie", cookie).type("form").send({ code: "123456" }).expect(403);
    await request(admin.app)
      .post("/dashboard/sign-in/code")
      .set("Cookie", cookie)
      .type("form")
      .send({ code: "123456", _csrf: "x".repeat(43) })
      .expect(403);
    const none = await request(admin.app).post("/dashboard/sign-in/code").type("form").send({ code: "123456" }).expect(303);
    expect(none.headers.location).toBe("/dashboard/sign-in?expired=1");
  });
});

describe("tenant boundary (an admin of A, from the attacker's side)", () => {
  let a: Browser;
  let bAdminId: string;

  beforeAll(async () => {
    await invite(op, orgA, "mallory@example.com").expect(303);
    await invite(op, orgB, "victim@example.com").expect(303);
    const m = await admin.deps.prisma.dashboardAdmin.findFirstOrThrow({ where: { organizationId: orgA, email: "mallory@example.com" } });
    bAdminId = (await admin.deps.prisma.dashboardAdmin.findFirstOrThrow({ where: { organizationId: orgB, email: "victim@example.com" } }))
      .id;
    a = await adminSession(m.id, orgA, m.email);
  });

  it("sees its own organization's pages, and only its own in the list", async () => {
    for (const p of ["", "/settings", "/admins"]) await get(`/dashboard/organizations/${orgA}${p}`, a).expect(200);
    const list = await get("/dashboard/organizations", a).expect(200);
    expect(list.text).toContain(orgA);
    expect(list.text).not.toContain(orgB);
    expect((await get("/dashboard", a).expect(303)).headers.location).toBe(`/dashboard/organizations/${orgA}`);
  });

  it("another organization's id in any URL or form is the 404 an unknown one gets, and changes nothing", async () => {
    for (const p of ["", "/settings", "/admins"]) {
      const other = await get(`/dashboard/organizations/${orgB}${p}`, a).expect(404);
      const unknown = await get(`/dashboard/organizations/org_01JAAAAAAAAAAAAAAAAAAAAAAA${p}`, a).expect(404);
      expect(other.text).toBe(unknown.text);
    }
    const count = () => admin.deps.prisma.dashboardAdmin.count({ where: { organizationId: orgB } });
    const before = await count();
    await invite(a, orgB, "evil@example.com").expect(404);
    await postForm(admin.app, a, `/dashboard/organizations/${orgB}/admins/${bAdminId}/remove`, {}).expect(404);
    // B's admin through A's URL: not A's, so unknown.
    await postForm(admin.app, a, `/dashboard/organizations/${orgA}/admins/${bAdminId}/remove`, {}).expect(404);
    await postForm(admin.app, a, `/dashboard/organizations/${orgB}/keys`, { mode: "live", kind: "secret" }).expect(404);
    await postForm(admin.app, a, `/dashboard/organizations/${orgB}/settings/live`, { accessTokenTtlSeconds: "600" }).expect(404);
    expect(await count()).toBe(before);
    // Cannot create organizations.
    await postForm(admin.app, a, "/dashboard/organizations", { name: "Mine" }).expect(403);
  });

  it("may invite to its own organization (audited as that admin)", async () => {
    await invite(a, orgA, "teammate@example.com").expect(303);
    const row = await admin.deps.prisma.dashboardAuditEvent.findFirstOrThrow({
      where: { action: "admin.invite", target: { not: null } },
      orderBy: { id: "desc" },
    });
    expect(row).toMatchObject({ actorKind: "orgAdmin", actorLabel: "mallory@example.com", organizationId: orgA });
  });

  it("a tampered cookie is no session; a form without the CSRF token is refused", async () => {
    const tampered = `${a.cookie.slice(0, -2)}${a.cookie.endsWith("AA") ? "BB" : "AA"}`;
    const res = await get(`/dashboard/organizations/${orgA}`, { cookie: tampered, csrf: "" }).expect(303);
    expect(res.headers.location).toMatch(/^\/dashboard\/sign-in\?/);
    await request(admin.app)
      .post(`/dashboard/organizations/${orgA}/admins`)
      .set("Cookie", a.cookie)
      .type("form")
      .send({ email: "x@example.com" })
      .expect(403);
    await postForm(admin.app, { ...a, csrf: op.csrf }, `/dashboard/organizations/${orgA}/admins`, { email: "x@example.com" }).expect(403);
    expect(await admin.deps.prisma.dashboardAdmin.count({ where: { email: "x@example.com" } })).toBe(0);
  });

  it("the operator has no passkey page; an admin has", async () => {
    await get("/dashboard/account/passkey", op).expect(404);
    const page = await get("/dashboard/account/passkey", a).expect(200);
    expect(page.text).toContain('data-passkey="register"');
    expect(page.text).toMatch(/data-publishable-key="pk_live_/);
    expect(page.text).not.toMatch(/sk_live_|sk_test_/);
  });
});
