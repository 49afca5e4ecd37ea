import http from "node:http";
import type { AddressInfo } from "node:net";
import type { AdminConsumer, AdminPasskeyCredential, AdminSession } from "@authplane/contracts";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { AppDeps } from "../src/deps.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";
import { type Browser, orgAdminBrowser, postForm, signIn } from "./support/dashboard.js";
import { request } from "./support/harness.js";

// Issue 14: the console's consumer pages (search, sessions, passkeys), OTP deliveries, overview
// charts and live tail. The other services' Admin APIs are played by a stand-in "gateway" that
// checks what the console sends (operator token, organization, mode) and keeps its state, so the
// tests see what a change did; the real services behind the real gateway are the e2e test's
// (infra/e2e/test/dashboard.e2e.test.ts).

const iso = createTestIsolation();
let admin: AdminKeyTestHandle & { deps: AppDeps };
let op: Browser;
let nc: NatsConnection;
let gateway: http.Server;

interface Scoped<T> {
  org: string;
  mode: string;
  value: T;
}
const now = new Date().toISOString();
const later = new Date(Date.now() + 86_400_000).toISOString();
const consumers: Array<Scoped<AdminConsumer>> = [];
const sessions: Array<Scoped<AdminSession & { consumerId: string }>> = [];
const credentials: Array<Scoped<AdminPasskeyCredential>> = [];
/** Calls the stand-in received (method, path with query, the scope headers, the token). */
const calls: Array<{ method: string; url: string; org: string; mode: string; auth: string }> = [];
/** Path prefix → what the stand-in does instead of answering: a 503, or no answer at all. */
const failing = new Map<string, "503" | "hang">();

function consumer(org: string, mode: string, id: string, email: string | null): AdminConsumer {
  const c: AdminConsumer = {
    id,
    kind: email ? "registered" : "guest",
    email,
    phone: null,
    emailVerifiedAt: email ? now : null,
    phoneVerifiedAt: null,
    createdAt: now,
    upgradedAt: email ? now : null,
    activeSessions: 0,
  };
  consumers.push({ org, mode, value: c });
  return c;
}
function session(org: string, mode: string, consumerId: string, id: string): void {
  sessions.push({
    org,
    mode,
    value: {
      consumerId,
      id,
      type: "otp",
      method: "email_otp",
      ip: "203.0.113.9",
      userAgent: "Mozilla/5.0 <Test>",
      createdAt: now,
      lastRefreshedAt: null,
      refreshExpiresAt: later,
      revokedAt: null,
      revokedReason: null,
    },
  });
}
function credential(org: string, mode: string, userId: string, id: string): void {
  credentials.push({
    org,
    mode,
    value: {
      id,
      userId,
      name: "YubiKey 5 Series",
      aaguid: "cb69481e-8ff7-4039-93ec-0a2729a154a8",
      authenticatorName: "YubiKey 5 Series",
      isActive: true,
      isBackupEligible: false,
      isBackedUp: false,
      transports: ["usb"],
      createdAt: now,
      lastUsedAt: null,
    },
  });
}

function standIn(req: http.IncomingMessage, res: http.ServerResponse): unknown {
  const url = new URL(req.url ?? "/", "http://x");
  const org = String(req.headers["x-organization-id"] ?? "");
  const mode = String(req.headers["x-mode"] ?? "");
  calls.push({ method: req.method ?? "", url: url.pathname + url.search, org, mode, auth: String(req.headers.authorization ?? "") });
  const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  for (const [prefix, how] of failing)
    if (url.pathname.startsWith(prefix)) return how === "503" ? json(503, { error: "service_unavailable" }) : undefined;
  if (req.headers.authorization !== `Bearer ${admin.operatorToken}`) return json(401, { error: "unauthorized" });
  const mine = <T>(rows: Array<Scoped<T>>) => rows.filter((r) => r.org === org && r.mode === mode).map((r) => r.value);
  const p = url.pathname.split("/").slice(1); // api v1 …
  const withSessions = (c: AdminConsumer) => ({
    ...c,
    activeSessions: mine(sessions).filter((s) => s.consumerId === c.id && !s.revokedAt).length,
  });
  const plain = (s: AdminSession & { consumerId: string }) => {
    const { consumerId: _c, ...rest } = s;
    return rest;
  };
  if (p[2] === "consumers") {
    const list = mine(consumers);
    if (p.length === 3) {
      const q = (url.searchParams.get("q") ?? "").toLowerCase();
      const data = list.filter((c) => !q || c.id === q || (c.email ?? "").startsWith(q)).map(withSessions);
      return json(200, { data, nextCursor: null });
    }
    const c = list.find((x) => x.id === p[3]);
    if (!c) return json(404, { error: "consumer_not_found", message: "No such consumer." });
    const own = mine(sessions).filter((s) => s.consumerId === c.id);
    if (p.length === 4) return json(200, withSessions(c));
    if (p.length === 5) {
      // Pages of one session each (the console passes the cursor back as is).
      if (c.id === "cons_paged") {
        const at = url.searchParams.get("cursor") === "page2" ? 1 : 0;
        return json(200, { data: own.slice(at, at + 1).map(plain), nextCursor: at === 0 ? "page2" : null });
      }
      return json(200, { data: own.map(plain), nextCursor: null });
    }
    const revoke = (s: AdminSession) => {
      if (s.revokedAt) return 0;
      s.revokedAt = new Date().toISOString();
      s.revokedReason = "admin";
      return 1;
    };
    if (p.length === 6 && req.method === "POST") return json(200, { revoked: own.reduce((n, s) => n + revoke(s), 0) });
    const s = own.find((x) => x.id === p[5]);
    if (!s) return json(404, { error: "session_not_found" });
    return json(200, { revoked: revoke(s) });
  }
  if (p[2] === "credentials") {
    const list = mine(credentials);
    if (p.length === 3) return json(200, { data: list.filter((c) => c.userId === url.searchParams.get("userId")), nextCursor: null });
    const c = list.find((x) => x.id === p[3]);
    if (!c) return json(404, { result: null, errors: [{ code: "EntityNotFound", message: "Credential not found." }] });
    if (p[4] === "deactivate") c.isActive = false;
    if (p[4] === "reactivate") c.isActive = true;
    return json(200, c);
  }
  if (p[2] === "otp-deliveries")
    return json(200, {
      data: [
        {
          id: "dlv_1",
          channel: "email",
          destination: "j***@example.com",
          status: "sent",
          attempts: 1,
          failureReason: null,
          createdAt: now,
          updatedAt: now,
        },
        {
          id: "dlv_2",
          channel: "sms",
          destination: "+1202*****34",
          status: "failed",
          attempts: 3,
          failureReason: "provider refused: <b>blocked</b>",
          createdAt: now,
          updatedAt: now,
        },
      ],
      nextCursor: null,
    });
  const days = (f: (date: string) => Record<string, unknown>) =>
    [1, 0].map((ago) => {
      const date = new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
      return { date, ...f(date) };
    });
  if (p[3] === "consumers")
    return json(200, {
      days: days(() => ({ signIns: { guest: 2, email_otp: 3, phone_otp: 0, external: 0 } })),
      activeSessions: 4,
      consumers: { total: 8, registered: 5, guest: 3 },
    });
  if (p[3] === "passkeys")
    return json(200, { days: days(() => ({ registrations: 1, verifications: 2 })), activeCredentials: 2, usersWithPasskeys: 2 });
  if (p[3] === "otp-deliveries") return json(200, { days: days(() => ({ sent: 3, failed: 1, pending: 0 })), successRate: 0.75 });
  json(404, { error: "not_found" });
}

let orgA: string;
let orgB: string;

beforeAll(async () => {
  gateway = http.createServer(standIn);
  await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  admin = await startAdminKeyInProcess(iso, {
    env: { DASHBOARD_API_URL: base, DASHBOARD_API_TIMEOUT_MS: "400", DASHBOARD_TAIL_HEARTBEAT_SECONDS: "1" },
  });
  op = await signIn(admin.app, admin.operatorToken, "198.51.100.40");
  nc = await connect({ servers: iso.natsUrl });
  orgA = (await admin.createOrganization({ name: "Consumers A" })).organization.id;
  orgB = (await admin.createOrganization({ name: "Consumers B" })).organization.id;
  consumer(orgA, "test", "cons_ada", "ada@example.com");
  consumer(orgA, "test", "guest_bob", null);
  consumer(orgA, "live", "cons_live", "live@example.com");
  consumer(orgB, "test", "cons_other", "other@example.com");
  session(orgA, "test", "cons_ada", "sess_a1");
  session(orgA, "test", "cons_ada", "sess_a2");
  session(orgA, "test", "guest_bob", "sess_b1");
  credential(orgA, "test", "cons_ada", "ctl_ada1");
  credential(orgA, "test", "someone_else", "ctl_other");
});
afterAll(async () => {
  await nc?.close();
  await admin?.stop();
  gateway?.closeAllConnections();
  await new Promise((r) => gateway?.close(r));
  await iso.cleanup();
});
beforeEach(() => failing.clear());

const get = (url: string, b: Browser | null = op) => {
  const r = request(admin.app).get(url);
  return b ? r.set("Cookie", b.cookie) : r;
};
const audit = (action: string, target: string) => admin.deps.prisma.dashboardAuditEvent.findMany({ where: { action, target } });

describe("consumers", () => {
  it("search by id or email in the chosen mode: the service gets the operator token, organization and mode", async () => {
    const res = await get(`/dashboard/organizations/${orgA}/consumers?mode=test&q=ada%40`).expect(200);
    expect(res.text).toContain("cons_ada");
    expect(res.text).not.toContain("guest_bob");
    const call = calls.at(-1);
    expect(call).toMatchObject({
      method: "GET",
      url: "/api/v1/consumers?q=ada%40",
      org: orgA,
      mode: "test",
      auth: `Bearer ${admin.operatorToken}`,
    });
    // The mode switch: live shows live consumers only; the links keep the mode.
    const live = await get(`/dashboard/organizations/${orgA}/consumers?mode=live`).expect(200);
    expect(live.text).toContain("cons_live");
    expect(live.text).not.toContain("cons_ada");
    expect(live.text).toMatch(/href="\/dashboard\/organizations\/org_\w+\/consumers\?mode=test"/);
    const byId = await get(`/dashboard/organizations/${orgA}/consumers?mode=test&q=guest_bob`).expect(200);
    expect(byId.text).toContain("guest_bob");
  });

  it("hostile search text is escaped, never markup", async () => {
    const q = `"><script>alert(1)</script>`;
    const res = await get(`/dashboard/organizations/${orgA}/consumers?mode=test&q=${encodeURIComponent(q)}`).expect(200);
    expect(res.text).not.toContain("<script>alert(1)</script>");
    expect(res.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;');
  });

  it("a consumer's page lists its sessions and its passkeys with the authenticator's name", async () => {
    const res = await get(`/dashboard/organizations/${orgA}/consumers/cons_ada?mode=test`).expect(200);
    for (const text of [
      "sess_a1",
      "sess_a2",
      "email_otp",
      "203.0.113.9",
      "Mozilla/5.0 &lt;Test&gt;",
      "YubiKey 5 Series",
      "ctl_ada1",
      "Revoke all sessions",
      "Deactivate",
    ])
      expect(res.text).toContain(text);
    expect(res.text).not.toContain("ctl_other");
    // Another organization's consumer, or one of another mode, is the console's 404.
    await get(`/dashboard/organizations/${orgA}/consumers/cons_other?mode=test`).expect(404);
    await get(`/dashboard/organizations/${orgA}/consumers/cons_ada?mode=live`).expect(404);
  });

  it("a consumer's sessions come in pages: an 'Older sessions' link carries the service's cursor", async () => {
    consumer(orgA, "test", "cons_paged", "paged@example.com");
    session(orgA, "test", "cons_paged", "sess_p1");
    session(orgA, "test", "cons_paged", "sess_p2");
    const first = await get(`/dashboard/organizations/${orgA}/consumers/cons_paged?mode=test`).expect(200);
    expect(first.text).toContain("sess_p1");
    expect(first.text).not.toContain("sess_p2");
    const link = /href="([^"]+)">Older sessions</.exec(first.text)?.[1]?.replaceAll("&amp;", "&") ?? "";
    expect(link).toBe(`/dashboard/organizations/${orgA}/consumers/cons_paged?mode=test&sessionsCursor=page2`);
    const second = await get(link).expect(200);
    expect(second.text).toContain("sess_p2");
    expect(second.text).not.toContain("Older sessions");
    expect(calls.filter((c) => c.url.startsWith("/api/v1/consumers/cons_paged/sessions")).at(-1)?.url).toBe(
      "/api/v1/consumers/cons_paged/sessions?includeRevoked=true&limit=50&cursor=page2",
    );
  });

  it("revoke one session: needs the CSRF token; revoked at the service, audited, shown", async () => {
    const url = `/dashboard/organizations/${orgA}/consumers/cons_ada/sessions/sess_a1/revoke`;
    const before = calls.length;
    await postForm(admin.app, op, url, { mode: "test", _csrf: "wrong" }).expect(403);
    await postForm(admin.app, { ...op, csrf: "" }, url, { mode: "test" }).expect(403);
    expect(calls.slice(before).filter((c) => c.method === "POST")).toEqual([]);
    const res = await postForm(admin.app, op, url, { mode: "test" }).expect(303);
    expect(res.headers.location).toBe(`/dashboard/organizations/${orgA}/consumers/cons_ada?mode=test&done=session-revoked`);
    expect(sessions.find((s) => s.value.id === "sess_a1")?.value.revokedAt).not.toBeNull();
    expect(sessions.find((s) => s.value.id === "sess_a2")?.value.revokedAt).toBeNull();
    const rows = await audit("consumer.session.revoke", "sess_a1");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ organizationId: orgA, mode: "test", actorKind: "operator", details: { consumerId: "cons_ada" } });
    const page = await get(res.headers.location ?? "").expect(200);
    expect(page.text).toContain("The session was revoked");
    expect(page.text).toContain("revoked</span>");
    // Again: nothing to revoke, no second audit row.
    await postForm(admin.app, op, url, { mode: "test" }).expect(303);
    expect(await audit("consumer.session.revoke", "sess_a1")).toHaveLength(1);
  });

  it("revoke all: every session of that consumer (only), audited with the count", async () => {
    session(orgA, "test", "cons_ada", "sess_a3");
    const res = await postForm(admin.app, op, `/dashboard/organizations/${orgA}/consumers/cons_ada/sessions/revoke`, {
      mode: "test",
    }).expect(303);
    expect(res.headers.location).toContain("done=sessions-revoked");
    expect(sessions.filter((s) => s.value.consumerId === "cons_ada").every((s) => s.value.revokedAt)).toBe(true);
    expect(sessions.find((s) => s.value.id === "sess_b1")?.value.revokedAt).toBeNull();
    const rows = await audit("consumer.sessions.revoke_all", "cons_ada");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.details).toEqual({ revoked: 2 });
  });

  it("deactivate and reactivate a passkey of the consumer, audited; another user's passkey is a 404 and untouched", async () => {
    const base = `/dashboard/organizations/${orgA}/consumers/cons_ada/passkeys`;
    await postForm(admin.app, op, `${base}/ctl_ada1/deactivate`, { mode: "test" }).expect(303);
    expect(credentials.find((c) => c.value.id === "ctl_ada1")?.value.isActive).toBe(false);
    expect(await audit("passkey.deactivate", "ctl_ada1")).toHaveLength(1);
    const page = await get(`/dashboard/organizations/${orgA}/consumers/cons_ada?mode=test&done=passkey-deactivated`).expect(200);
    expect(page.text).toContain("no (deactivated)");
    expect(page.text).toContain("Reactivate");
    await postForm(admin.app, op, `${base}/ctl_ada1/reactivate`, { mode: "test" }).expect(303);
    expect(credentials.find((c) => c.value.id === "ctl_ada1")?.value.isActive).toBe(true);
    expect(await audit("passkey.reactivate", "ctl_ada1")).toHaveLength(1);

    await postForm(admin.app, op, `${base}/ctl_other/deactivate`, { mode: "test" }).expect(404);
    expect(credentials.find((c) => c.value.id === "ctl_other")?.value.isActive).toBe(true);
    await postForm(admin.app, op, `${base}/ctl_ada1/deactivate`, { mode: "live" }).expect(404);
    expect(credentials.find((c) => c.value.id === "ctl_ada1")?.value.isActive).toBe(true);
  });

  it("an organization admin gets its own organization only: another's pages and forms are 404s and call no service", async () => {
    const b = await orgAdminBrowser(admin.app, admin.deps, orgB);
    await get(`/dashboard/organizations/${orgB}/consumers?mode=test`, b).expect(200);
    const before = calls.length;
    for (const url of ["consumers", "consumers/cons_ada", "otp-deliveries", "overview", "events", "events/stream"])
      await get(`/dashboard/organizations/${orgA}/${url}?mode=test`, b).expect(404);
    await postForm(admin.app, b, `/dashboard/organizations/${orgA}/consumers/cons_ada/sessions/revoke`, { mode: "test" }).expect(404);
    await postForm(admin.app, b, `/dashboard/organizations/${orgA}/consumers/cons_ada/passkeys/ctl_ada1/deactivate`, {
      mode: "test",
    }).expect(404);
    expect(calls.length).toBe(before);
    // Signed out: a 303 to the sign-in page, nothing called.
    const out = await get(`/dashboard/organizations/${orgA}/consumers?mode=test`, null).expect(303);
    expect(out.headers.location).toMatch(/^\/dashboard\/sign-in\?next=/);
  });

  it("a service that answers 503 or not at all: a clear message on the page, never a crash", async () => {
    failing.set("/api/v1/consumers", "503");
    const down = await get(`/dashboard/organizations/${orgA}/consumers?mode=test`).expect(503);
    expect(down.text).toContain("The consumers could not be loaded: the service is unavailable (HTTP 503). Try again shortly.");
    expect(down.text).toContain('role="search"');
    failing.set("/api/v1/consumers", "hang");
    const slow = await get(`/dashboard/organizations/${orgA}/consumers?mode=test`).expect(503);
    expect(slow.text).toContain("The consumers could not be loaded: the service did not answer in time.");
    // A change while the service is down: a 503 page, nothing audited.
    failing.set("/api/v1/consumers", "503");
    const n = (await admin.deps.prisma.dashboardAuditEvent.count()) as number;
    const post = await postForm(admin.app, op, `/dashboard/organizations/${orgA}/consumers/guest_bob/sessions/revoke`, {
      mode: "test",
    }).expect(503);
    expect(post.text).toContain("The sessions could not be loaded");
    expect(await admin.deps.prisma.dashboardAuditEvent.count()).toBe(n);
    // Only the passkeys section fails: the consumer and sessions still show.
    failing.clear();
    failing.set("/api/v1/credentials", "503");
    const partial = await get(`/dashboard/organizations/${orgA}/consumers/guest_bob?mode=test`).expect(200);
    expect(partial.text).toContain("sess_b1");
    expect(partial.text).toContain("The passkeys could not be loaded");
  });
});

describe("OTP deliveries", () => {
  it("status per message with the masked destination, attempts and failure reason (escaped); filters are passed on", async () => {
    const res = await get(`/dashboard/organizations/${orgA}/otp-deliveries?mode=live&status=failed&channel=sms`).expect(200);
    expect(calls.at(-1)).toMatchObject({ url: "/api/v1/otp-deliveries?status=failed&channel=sms", org: orgA, mode: "live" });
    for (const text of [
      "j***@example.com",
      "+1202*****34",
      "provider refused: &lt;b&gt;blocked&lt;/b&gt;",
      '<option value="failed" selected>',
    ])
      expect(res.text).toContain(text);
    await get(`/dashboard/organizations/${orgA}/otp-deliveries?mode=live&status=lost`).expect(400);
    failing.set("/api/v1/otp-deliveries", "503");
    const down = await get(`/dashboard/organizations/${orgA}/otp-deliveries?mode=live`).expect(503);
    expect(down.text).toContain("The OTP deliveries could not be loaded");
  });
});

describe("overview", () => {
  it("charts with text alternatives and data tables; a failing service leaves a message in its section only", async () => {
    const res = await get(`/dashboard/organizations/${orgA}/overview?mode=test`).expect(200);
    expect(res.text).toContain('<svg viewBox="0 0 640 180" role="img" aria-labelledby="chart-signins-title chart-signins-desc"');
    expect(res.text).toContain("10 sign-ins in 14 days: 4 guest, 6 email code, 0 SMS code, 0 external.");
    expect(res.text).toContain("OTP delivery success rate: 75.0%.");
    expect(res.text).toContain("Passkey adoption: 25.0%.");
    expect(res.text).toContain("2 of 8 consumers have an active passkey.");
    expect(res.text).toMatch(/<th scope="row">\d{4}-\d{2}-\d{2}<\/th><td>2<\/td><td>3<\/td>/);
    expect(res.text).not.toMatch(/style=/);
    failing.set("/api/v1/stats/otp-deliveries", "503");
    const partial = await get(`/dashboard/organizations/${orgA}/overview?mode=test`).expect(200);
    expect(partial.text).toContain("OTP deliveries could not be loaded");
    expect(partial.text).toContain("chart-signins-title");
  });
});

describe("live tail", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer(admin.app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function publish(type: string, organizationId: string, mode: "live" | "test", data: Record<string, unknown>) {
    const id = `evt_${Math.random().toString(36).slice(2)}`;
    nc.publish(
      iso.subjects.event(type),
      JSON.stringify({ id, type, version: 1, occurredAt: new Date().toISOString(), organizationId, mode, data }),
    );
    return id;
  }

  /** Opens the stream and collects what arrives as text. */
  async function open(url: string, cookie: string) {
    const ctrl = new AbortController();
    const res = await fetch(`${base}${url}`, { headers: { cookie }, signal: ctrl.signal, redirect: "manual" });
    let text = "";
    let ended = false;
    const done = (async () => {
      const reader = res.body?.getReader();
      if (!reader) return;
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { value, done: finished } = await reader.read();
          if (finished) break;
          text += decoder.decode(value, { stream: true });
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
    return { res, text: () => text, ended: () => ended, close: () => ctrl.abort(), done };
  }

  it("backlog first, then an event published on NATS, its organization and mode only; heartbeats", async () => {
    const early = publish("sessions.v1.created", orgA, "test", { sessionId: "sess_early" });
    await eventually(() => admin.deps.eventTail.recent(orgA, "test").some((e) => e.id === early));
    // Without JavaScript the page lists the backlog.
    const page = await get(`/dashboard/organizations/${orgA}/events?mode=test`).expect(200);
    expect(page.text).toContain(`data-event-id="${early}"`);
    expect(page.text).toContain('aria-live="polite"');

    const s = await open(`/dashboard/organizations/${orgA}/events/stream?mode=test`, op.cookie);
    try {
      expect(s.res.status).toBe(200);
      expect(s.res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      await eventually(() => s.text().includes(`id: ${early}\nevent: auth\n`));
      const other = publish("sessions.v1.created", orgB, "test", { sessionId: "sess_other_org" });
      const live = publish("sessions.v1.created", orgA, "live", { sessionId: "sess_live_mode" });
      const mine = publish("sessions.v1.revoked", orgA, "test", { sessionId: "sess_a1", reason: "<admin>" });
      await eventually(() => s.text().includes(`id: ${mine}\n`));
      expect(s.text()).not.toContain(other);
      expect(s.text()).not.toContain(live);
      const data = s.text().split(`id: ${mine}\nevent: auth\ndata: `)[1]?.split("\n")[0] ?? "";
      expect(JSON.parse(data)).toMatchObject({
        id: mine,
        type: "sessions.v1.revoked",
        mode: "test",
        summary: "sessionId: sess_a1, reason: <admin>",
      });
      await eventually(() => s.text().includes(": heartbeat\n\n"), 5000);
    } finally {
      s.close();
    }
  });

  it("a reconnect with Last-Event-ID gets only what came after it", async () => {
    const a = publish("sessions.v1.created", orgA, "test", { n: 1 });
    const b = publish("sessions.v1.created", orgA, "test", { n: 2 });
    await eventually(() => admin.deps.eventTail.recent(orgA, "test").some((e) => e.id === b));
    const ctrl = new AbortController();
    const r = await fetch(`${base}/dashboard/organizations/${orgA}/events/stream?mode=test`, {
      headers: { cookie: op.cookie, "last-event-id": a },
      signal: ctrl.signal,
    });
    const reader = r.body?.getReader();
    const decoder = new TextDecoder();
    let got = "";
    while (reader && !got.includes(`id: ${b}\n`)) got += decoder.decode((await reader.read()).value, { stream: true });
    ctrl.abort();
    expect(got).not.toContain(`id: ${a}\n`);
    expect(got).toContain(`id: ${b}\n`);
  });

  it("a session idle for DASHBOARD_IDLE_TIMEOUT_SECONDS ends an open stream (the stream itself is no activity)", async () => {
    const b = await signIn(admin.app, admin.operatorToken, "198.51.100.42");
    const s = await open(`/dashboard/organizations/${orgA}/events/stream?mode=test`, b.cookie);
    expect(s.res.status).toBe(200);
    // The last page view was longer ago than the idle timeout (1800 s by default).
    await admin.deps.prisma.dashboardSession.updateMany({
      where: { revokedAt: null, lastSeenAt: { gte: new Date(Date.now() - 10_000) }, ip: "198.51.100.42" },
      data: { lastSeenAt: new Date(Date.now() - 1_801_000) },
    });
    await eventually(() => s.ended(), 5000);
    expect(s.text()).toContain('event: end\ndata: {"reason":"idle"}\n\n');
  });

  it("sign-out ends an open stream (event: end, closed); signed out, the stream is a redirect", async () => {
    const b = await signIn(admin.app, admin.operatorToken, "198.51.100.41");
    const s = await open(`/dashboard/organizations/${orgA}/events/stream?mode=test`, b.cookie);
    expect(s.res.status).toBe(200);
    await postForm(admin.app, b, "/dashboard/sign-out", {}).expect(303);
    await eventually(() => s.ended(), 5000);
    expect(s.text()).toContain('event: end\ndata: {"reason":"signed_out"}\n\n');
    const after = await get(`/dashboard/organizations/${orgA}/events/stream?mode=test`, b).expect(303);
    expect(after.headers.location).toMatch(/^\/dashboard\/sign-in/);
  });
});
