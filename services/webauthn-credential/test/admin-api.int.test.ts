import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { captureLogs, fuzzEndpoints, isWrappedErrorBody } from "@authplane/service-kit/testing";
import supertest from "supertest";
import { startWebauthnForTest } from "../src/testing.js";
import type { OrgForTest } from "./support/admin.js";
import { basicPk, basicSk, enroll, expectWrappedError, type Harness, RP, serverCall, signIn, startHarness } from "./support/harness.js";
import { SoftAuthenticator } from "./support/soft-authenticator.js";
import { webauthnOpenApi } from "../src/app.js";

// Issue 14: the Admin API of webauthn-credential (the dashboard's passkeys: list, one,
// deactivate/reactivate, stats), with the operator token naming an organization and mode, or the
// organization's own secret key; from the attacker's side too (other organization, other mode,
// wrong or missing credentials).

const OPERATOR_TOKEN = "operator-token-for-the-admin-api-tests-0123456789";
const ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
const YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8";

let h: Harness;
let a: OrgForTest;
let b: OrgForTest;
const keysOf = (org: OrgForTest, mode: "live" | "test" = "test") => ({ pk: org.keys.publishable[mode], sk: org.keys.secret[mode] });

beforeAll(async () => {
  // The per-IP admin limit is tested in rate-limits.int.test.ts; here the fuzzing must not reach it.
  h = await startHarness({ env: { OPERATOR_TOKEN, RATE_LIMIT_ADMIN_IP_PER_MINUTE: "1000000" } });
  [a, b] = await Promise.all([
    h.admin.createOrganization({ name: "Admin A", webauthn: RP }),
    h.admin.createOrganization({ name: "Admin B", webauthn: RP }),
  ]);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

type Method = "get" | "post";
/** The dashboard's call: operator token + the organization and mode it is about. */
function op(method: Method, path: string, org: OrgForTest, mode: "live" | "test" = "test") {
  return h.http[method](path)
    .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
    .set("X-Organization-Id", org.organization.id)
    .set("X-Mode", mode);
}
/** The organization's backend: its secret key, HTTP Basic as the server API. */
function sk(method: Method, path: string, org: OrgForTest, mode: "live" | "test" = "test") {
  return h.http[method](path).set("Authorization", basicSk(org.keys.secret[mode]));
}

async function outboxCount(): Promise<number> {
  return h.svc.deps.prisma.outboxEvent.count();
}

describe("authentication", () => {
  it("the operator token with X-Organization-Id + X-Mode, and the organization's secret key, both list the same passkeys", async () => {
    const id = await enroll(h, keysOf(a), new SoftAuthenticator({ aaguid: ICLOUD }), { id: "auth-user" });
    const byOperator = await op("get", "/api/v1/credentials?userId=auth-user", a).expect(200);
    const byKey = await sk("get", "/api/v1/credentials?userId=auth-user", a).expect(200);
    expect(byOperator.body.data.map((c: { id: string }) => c.id)).toEqual([id]);
    expect(byKey.body).toEqual(byOperator.body);
    // A secret key's scope is its own organization and mode: headers naming another are not read.
    const headersIgnored = await sk("get", "/api/v1/credentials?userId=auth-user", a)
      .set("X-Organization-Id", b.organization.id)
      .set("X-Mode", "live")
      .expect(200);
    expect(headersIgnored.body.data.map((c: { id: string }) => c.id)).toEqual([id]);
    // Answers are never cached.
    expect(byOperator.headers["cache-control"]).toMatch(/no-store/);
  });

  it("no credentials, a wrong operator token or a secret key as a Bearer token: 401, nothing listed", async () => {
    const none = await h.http.get("/api/v1/credentials");
    expectWrappedError(none, 401, "InvalidAuthorizationHeader");
    expect(none.headers["www-authenticate"]).toMatch(/Bearer/);
    for (const auth of [
      `Bearer ${OPERATOR_TOKEN}x`,
      `Bearer ${OPERATOR_TOKEN.slice(0, -1)}`,
      "Bearer ",
      `Bearer ${a.keys.secret.test}`,
      "Token x",
    ]) {
      const res = await h.http
        .get("/api/v1/credentials")
        .set("Authorization", auth)
        .set("X-Organization-Id", a.organization.id)
        .set("X-Mode", "test");
      expectWrappedError(res, 401, "InvalidAuthorizationHeader");
      expect(JSON.stringify(res.body)).not.toContain(OPERATOR_TOKEN);
    }
    expectWrappedError(
      await h.http.post("/api/v1/credentials/ctl_01J000000000000000000000000/deactivate"),
      401,
      "InvalidAuthorizationHeader",
    );
  });

  it("the operator token without a valid X-Organization-Id or X-Mode: 400 InvalidInput", async () => {
    const bearer = (req: ReturnType<typeof h.http.get>) => req.set("Authorization", `Bearer ${OPERATOR_TOKEN}`);
    expectWrappedError(await bearer(h.http.get("/api/v1/credentials")), 400, "InvalidInput");
    expectWrappedError(await bearer(h.http.get("/api/v1/credentials")).set("X-Organization-Id", a.organization.id), 400, "InvalidInput");
    expectWrappedError(await bearer(h.http.get("/api/v1/credentials")).set("X-Mode", "test"), 400, "InvalidInput");
    for (const [org, mode] of [
      [a.organization.id, "prod"],
      [a.organization.id, "TEST"],
      ["org_nope", "test"],
      [`${a.organization.id}x`, "test"],
      ["' OR 1=1 --", "live"],
    ]) {
      const res = await bearer(h.http.get("/api/v1/stats/passkeys"))
        .set("X-Organization-Id", org as string)
        .set("X-Mode", mode as string);
      expectWrappedError(res, 400, "InvalidInput");
    }
  });

  it("a publishable key is refused; an unknown secret key is SecretKeyNotFound", async () => {
    const pk = await h.http.get("/api/v1/credentials").set("Authorization", basicPk(a.keys.publishable.test));
    expectWrappedError(pk, 400, "InvalidAuthorizationHeader");
    const pkAsPassword = await h.http.get("/api/v1/credentials").set("Authorization", basicSk(a.keys.publishable.test));
    expectWrappedError(pkAsPassword, 400, "InvalidAuthorizationHeader");
    const unknown = await h.http.get("/api/v1/credentials").set("Authorization", basicSk(`sk_test_${"A".repeat(32)}`));
    expectWrappedError(unknown, 400, "SecretKeyNotFound");
  });
});

describe("credentials", () => {
  it("a credential: the contract's fields, the authenticator's name from its AAGUID (null when unknown), last use", async () => {
    const icloud = new SoftAuthenticator({ aaguid: ICLOUD, backupEligible: true, backedUp: true });
    const plain = new SoftAuthenticator();
    const id1 = await enroll(h, keysOf(a), icloud, { id: "fields-user" });
    const id2 = await enroll(h, keysOf(a), plain, { id: "fields-user" });
    const one = await op("get", `/api/v1/credentials/${id1}`, a).expect(200);
    expect(one.body).toEqual({
      id: id1,
      userId: "fields-user",
      name: "iCloud Keychain",
      aaguid: ICLOUD,
      authenticatorName: "iCloud Keychain",
      isActive: true,
      isBackupEligible: true,
      isBackedUp: true,
      transports: ["internal", "hybrid"],
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      lastUsedAt: null,
    });
    expect(Math.abs(Date.parse(one.body.createdAt) - Date.now())).toBeLessThan(60_000);
    const other = await op("get", `/api/v1/credentials/${id2}`, a).expect(200);
    expect(other.body).toMatchObject({ name: "Passkey", aaguid: "00000000-0000-0000-0000-000000000000", authenticatorName: null });

    expect(
      (await signIn(h, a.keys.publishable.test, icloud, { user: { id: "fields-user" }, credentialId: [...icloud.credentials.keys()][0] }))
        .status,
    ).toBe(200);
    const used = await sk("get", `/api/v1/credentials/${id1}`, a).expect(200);
    expect(Math.abs(Date.parse(used.body.lastUsedAt) - Date.now())).toBeLessThan(60_000);
  });

  it("list: newest first, filters by userId and active, cursor pages cover every passkey once", async () => {
    const user = "pager";
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await enroll(h, keysOf(a), new SoftAuthenticator({ aaguid: YUBIKEY }), { id: user }));
    const other = await enroll(h, keysOf(a), new SoftAuthenticator(), { id: "pager-other" });
    await op("post", `/api/v1/credentials/${ids[1]}/deactivate`, a).expect(200);

    const all = await op("get", `/api/v1/credentials?userId=${user}`, a).expect(200);
    expect(all.body.data.map((c: { id: string }) => c.id)).toEqual([...ids].reverse());
    expect(all.body.nextCursor).toBeNull();
    expect(
      all.body.data.every(
        (c: { userId: string; authenticatorName: string }) => c.userId === user && c.authenticatorName === "YubiKey 5 Series",
      ),
    ).toBe(true);

    const active = await op("get", `/api/v1/credentials?userId=${user}&active=true`, a).expect(200);
    expect(active.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    const inactive = await op("get", `/api/v1/credentials?userId=${user}&active=false`, a).expect(200);
    expect(inactive.body.data.map((c: { id: string }) => c.id)).toEqual([ids[1]]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await op(
        "get",
        `/api/v1/credentials?userId=${user}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        a,
      ).expect(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((c: { id: string }) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    // Without a filter: the organization's passkeys of this mode, the newest first (other users' too).
    const first = await op("get", "/api/v1/credentials?limit=1", a).expect(200);
    expect(first.body.data.map((c: { id: string }) => c.id)).toEqual([other]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it("another organization's or mode's passkey: 404 exactly like an unknown id, never listed, never changed", async () => {
    const bAuth = new SoftAuthenticator();
    const bId = await enroll(h, keysOf(b), bAuth, { id: "shared-user-id" });
    const aLiveId = await enroll(h, keysOf(a, "live"), new SoftAuthenticator(), { id: "shared-user-id" });
    const before = await outboxCount();
    const unknown = await op("get", "/api/v1/credentials/ctl_01JZZZZZZZZZZZZZZZZZZZZZZZ", a);
    expectWrappedError(unknown, 404, "EntityNotFound");
    for (const [id, mode] of [
      [bId, "test"],
      [bId, "live"],
      [aLiveId, "test"],
    ] as const) {
      for (const call of [
        op("get", `/api/v1/credentials/${id}`, a, mode),
        op("post", `/api/v1/credentials/${id}/deactivate`, a, mode),
        op("post", `/api/v1/credentials/${id}/reactivate`, a, mode),
        sk("get", `/api/v1/credentials/${id}`, a, mode),
        sk("post", `/api/v1/credentials/${id}/deactivate`, a, mode),
      ]) {
        const res = await call;
        expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: unknown.body });
      }
    }
    // Never listed: a's test list has no b passkey nor a's live one, even for the same user id.
    const listed = await op("get", "/api/v1/credentials?userId=shared-user-id&limit=100", a).expect(200);
    expect(listed.body.data).toEqual([]);
    const live = await op("get", "/api/v1/credentials?userId=shared-user-id", a, "live").expect(200);
    expect(live.body.data.map((c: { id: string }) => c.id)).toEqual([aLiveId]);
    // Nothing changed: both still active, no event, and b's passkey still signs in.
    const rows = await h.svc.deps.prisma.credential.findMany({ where: { id: { in: [bId, aLiveId] } } });
    expect(rows.map((r) => r.isActive)).toEqual([true, true]);
    expect(await outboxCount()).toBe(before);
    expect((await signIn(h, b.keys.publishable.test, bAuth)).status).toBe(200);
  });

  it("deactivate: the passkey cannot sign in, events published; reactivate: it signs in again; both idempotent", async () => {
    const auth = new SoftAuthenticator();
    const id = await enroll(h, keysOf(a), auth, { id: "deact-user" });
    await h.svc.deps.relay.flush();
    const since = new Date();
    const off = await op("post", `/api/v1/credentials/${id}/deactivate`, a).expect(200);
    expect(off.body).toMatchObject({ id, userId: "deact-user", isActive: false });
    expect((await h.svc.deps.prisma.credential.findUniqueOrThrow({ where: { id } })).isActive).toBe(false);
    expectWrappedError(await signIn(h, a.keys.publishable.test, auth), 403, "UsingDeactivatedCredential");
    // Seed 003's server API sees the same state.
    const found = await serverCall(h, a.keys.secret.test, "/credential/find", { user: { id: "deact-user" } });
    expect(found.body.result.data).toEqual([expect.objectContaining({ id, isActive: false })]);

    // Again: the same answer, no second event.
    await sk("post", `/api/v1/credentials/${id}/deactivate`, a).expect(200);
    const on = await op("post", `/api/v1/credentials/${id}/reactivate`, a).expect(200);
    expect(on.body).toMatchObject({ id, isActive: true });
    await op("post", `/api/v1/credentials/${id}/reactivate`, a).expect(200);
    expect((await signIn(h, a.keys.publishable.test, auth)).status).toBe(200);

    await h.svc.deps.relay.flush();
    const events = await h.svc.deps.prisma.outboxEvent.findMany({ where: { createdAt: { gte: since } }, orderBy: { createdAt: "asc" } });
    const mine = events.filter((e) => {
      const data = (e.payload as { data: { credential?: { id: string }; credentialId?: string } }).data;
      return data.credential?.id === id || data.credentialId === id;
    });
    expect(mine.map((e) => e.type)).toEqual([
      "credentials.v1.updated",
      "credentials.v1.deactivated",
      "credentials.v1.updated",
      "passkeys.v1.authenticated",
    ]);
    expect(mine.every((e) => e.publishedAt !== null)).toBe(true);
    expect(mine[1]?.payload).toMatchObject({
      organizationId: a.organization.id,
      mode: "test",
      data: { credential: { id, isActive: false }, user: { id: "deact-user" } },
    });
  });

  it("a deactivation by the seed's /credential/update shows in the Admin API, and the Admin API's in the seed's", async () => {
    const id = await enroll(h, keysOf(a), new SoftAuthenticator(), { id: "both-apis" });
    await serverCall(h, a.keys.secret.test, "/credential/update", { credentialId: id, active: false }).expect(200);
    expect((await op("get", `/api/v1/credentials/${id}`, a).expect(200)).body.isActive).toBe(false);
    await op("post", `/api/v1/credentials/${id}/reactivate`, a).expect(200);
    const found = await serverCall(h, a.keys.secret.test, "/credential/find", { user: { id: "both-apis" } });
    expect(found.body.result.data[0].isActive).toBe(true);
  });
});

describe("stats", () => {
  it("registrations and sign-ins per UTC day, active passkeys and users with one; per organization and mode", async () => {
    const c = await h.admin.createOrganization({ name: "Stats", webauthn: RP });
    const empty = await op("get", "/api/v1/stats/passkeys", c).expect(200);
    expect(empty.body.days).toHaveLength(14);
    expect(empty.body).toMatchObject({ activeCredentials: 0, usersWithPasskeys: 0 });
    expect(
      empty.body.days.every((d: { registrations: number; verifications: number }) => d.registrations === 0 && d.verifications === 0),
    ).toBe(true);

    const alice = new SoftAuthenticator();
    const bob1 = new SoftAuthenticator();
    const bob2 = new SoftAuthenticator();
    await enroll(h, keysOf(c), alice, { id: "alice" });
    const bob1Id = await enroll(h, keysOf(c), bob1, { id: "bob" });
    await enroll(h, keysOf(c), bob2, { id: "bob" });
    await enroll(h, keysOf(c, "live"), new SoftAuthenticator(), { id: "live-user" });
    for (const auth of [alice, alice, bob2]) expect((await signIn(h, c.keys.publishable.test, auth)).status).toBe(200);
    // A refused sign-in (deactivated passkey) is not a verification.
    await op("post", `/api/v1/credentials/${bob1Id}/deactivate`, c).expect(200);
    expectWrappedError(await signIn(h, c.keys.publishable.test, bob1), 403, "UsingDeactivatedCredential");

    const today = new Date().toISOString().slice(0, 10);
    const stats = await op("get", "/api/v1/stats/passkeys", c).expect(200);
    expect(stats.body.days).toHaveLength(14);
    expect(stats.body.days.at(-1)).toEqual({ date: today, registrations: 3, verifications: 3 });
    const dates = stats.body.days.map((d: { date: string }) => d.date);
    expect(dates).toEqual([...dates].sort());
    expect(new Set(dates).size).toBe(14);
    expect(Date.parse(dates[13]) - Date.parse(dates[0])).toBe(13 * 86_400_000);
    expect(
      stats.body.days
        .slice(0, 13)
        .every((d: { registrations: number; verifications: number }) => d.registrations === 0 && d.verifications === 0),
    ).toBe(true);
    expect(stats.body).toMatchObject({ activeCredentials: 2, usersWithPasskeys: 2 });
    // The secret key sees the same numbers; the live mode only its own.
    expect((await sk("get", "/api/v1/stats/passkeys", c).expect(200)).body).toEqual(stats.body);
    const live = await op("get", "/api/v1/stats/passkeys?days=1", c, "live").expect(200);
    expect(live.body).toEqual({ days: [{ date: today, registrations: 1, verifications: 0 }], activeCredentials: 1, usersWithPasskeys: 1 });
    const ninety = await op("get", "/api/v1/stats/passkeys?days=90", c).expect(200);
    expect(ninety.body.days).toHaveLength(90);
    // The counter table holds exactly the verified sign-ins of this organization and mode.
    const counted = await h.svc.deps.prisma.passkeyDailyStat.findMany({ where: { organizationId: c.organization.id } });
    expect(counted.map((r) => ({ mode: r.mode, verifications: r.verifications }))).toEqual([{ mode: "test", verifications: 3 }]);
  });
});

describe("hostile input", () => {
  it("bad ids, queries and cursors: 4xx in the service's format, nothing changed", async () => {
    const id = await enroll(h, keysOf(a), new SoftAuthenticator(), { id: "hostile-user" });
    const before = await outboxCount();
    const paths: Array<[Method, string, number]> = [
      ["get", "/api/v1/credentials?limit=0", 400],
      ["get", "/api/v1/credentials?limit=101", 400],
      ["get", "/api/v1/credentials?limit=-1", 400],
      ["get", "/api/v1/credentials?limit=1e2", 400],
      ["get", "/api/v1/credentials?limit=abc", 400],
      ["get", "/api/v1/credentials?limit=1&limit=2", 400],
      ["get", "/api/v1/credentials?active=yes", 400],
      ["get", "/api/v1/credentials?active=true&active=false", 400],
      ["get", "/api/v1/credentials?userId=", 400],
      ["get", `/api/v1/credentials?userId=${"x".repeat(300)}`, 400],
      ["get", "/api/v1/credentials?userId[]=a", 400],
      ["get", "/api/v1/credentials?userId[$ne]=a", 400],
      ["get", "/api/v1/credentials?userid=misspelt", 400],
      ["get", "/api/v1/stats/passkeys?day=7", 400],
      ["get", "/api/v1/credentials?cursor=nope", 400],
      ["get", `/api/v1/credentials?cursor=${Buffer.from("ctl_' OR 1=1 --").toString("base64url")}`, 400],
      ["get", `/api/v1/credentials?cursor=${"A".repeat(300)}`, 400],
      ["get", "/api/v1/credentials?cursor=%00", 400],
      ["get", "/api/v1/stats/passkeys?days=0", 400],
      ["get", "/api/v1/stats/passkeys?days=91", 400],
      ["get", "/api/v1/stats/passkeys?days=7.5", 400],
      ["get", "/api/v1/credentials/not-a-credential", 400],
      ["get", `/api/v1/credentials/ctl_${"A".repeat(100)}`, 400],
      ["get", "/api/v1/credentials/ctl_'%20OR%20'1'='1", 400],
      ["post", `/api/v1/credentials/${id}%00/deactivate`, 400],
      ["post", "/api/v1/credentials/%E0%A4%A/deactivate", 400],
      ["post", `/api/v1/credentials/${id.toLowerCase()}/deactivate`, 404],
      ["post", `/api/v1/credentials/${id}/delete`, 404],
      ["get", `/api/v1/credentials/${id}/deactivate`, 404],
    ];
    for (const [method, path, status] of paths) {
      const res = await op(method, path, a);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.body).toEqual({
        result: null,
        errors: [expect.objectContaining({ code: expect.any(String), message: expect.any(String) })],
      });
    }
    // The unknown-user filter is just an empty list (the filter is a value, never a query fragment).
    expect((await op("get", "/api/v1/credentials?userId=%27%20OR%201%3D1%20--", a).expect(200)).body).toEqual({
      data: [],
      nextCursor: null,
    });
    expect((await h.svc.deps.prisma.credential.findUniqueOrThrow({ where: { id } })).isActive).toBe(true);
    expect(await outboxCount()).toBe(before);
  });

  it("generated hostile input on every Admin API endpoint: a 4xx in the wrapped format, valid calls alongside all succeed", async () => {
    const server: Server = h.svc.app.listen(0, "127.0.0.1");
    await new Promise<void>((r) => server.once("listening", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const id = await enroll(h, keysOf(a), new SoftAuthenticator(), { id: "fuzz-admin" });
      const headers = { authorization: `Bearer ${OPERATOR_TOKEN}`, "x-organization-id": a.organization.id, "x-mode": "test" };
      const bHeaders = { authorization: basicSk(b.keys.secret.test) };
      let turn = 0;
      const report = await fuzzEndpoints({
        baseUrl: base,
        runsPerTarget: 60,
        targets: [
          {
            name: "GET /api/v1/credentials",
            method: "GET",
            path: "/api/v1/credentials",
            headers,
            query: ["userId", "active", "limit", "cursor"],
          },
          {
            name: "GET /api/v1/credentials/{id}",
            method: "GET",
            path: "/api/v1/credentials/:credentialId",
            headers,
            params: { credentialId: id },
          },
          {
            name: "POST …/deactivate",
            method: "POST",
            path: "/api/v1/credentials/:credentialId/deactivate",
            headers,
            params: { credentialId: id },
          },
          { name: "GET /api/v1/stats/passkeys", method: "GET", path: "/api/v1/stats/passkeys", headers, query: ["days"] },
        ],
        valid: async () => {
          const path = turn++ % 2 ? "/api/v1/credentials?limit=5" : "/api/v1/stats/passkeys?days=3";
          const res = await fetch(`${base}${path}`, { headers: bHeaders });
          if (res.status !== 200) throw new Error(`valid request answered ${res.status}: ${await res.text()}`);
        },
        isErrorBody: isWrappedErrorBody,
      });
      expect(report.hostile).toBe(4 * 60);
      expect(report.valid).toBe(4 * 60);
    } finally {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    }
  }, 120_000);
});

test("a change is logged with who made it; the operator token, keys and Authorization headers never are", async () => {
  const logs = captureLogs();
  const logged = await startWebauthnForTest(h.iso, { env: { LOG_LEVEL: "trace", OPERATOR_TOKEN }, logDestination: logs.stream });
  try {
    const id = await enroll(h, keysOf(a), new SoftAuthenticator(), { id: "logged-user" });
    const http = supertest(logged.app);
    const asOperator = (req: ReturnType<typeof http.get>, token = OPERATOR_TOKEN) =>
      req.set("Authorization", `Bearer ${token}`).set("X-Organization-Id", a.organization.id).set("X-Mode", "test");
    await asOperator(http.post(`/api/v1/credentials/${id}/deactivate`)).expect(200);
    await http.post(`/api/v1/credentials/${id}/reactivate`).set("Authorization", basicSk(a.keys.secret.test)).expect(200);
    await asOperator(http.get("/api/v1/credentials"), `${OPERATOR_TOKEN}-wrong`).expect(401);
    await asOperator(http.get("/api/v1/stats/passkeys")).expect(200);
    const text = logs.text();
    const lines = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; actor?: string; credentialId?: string });
    expect(lines.find((l) => l.msg === "passkey deactivated through the Admin API")).toMatchObject({ actor: "operator", credentialId: id });
    expect(lines.find((l) => l.msg === "passkey reactivated through the Admin API")).toMatchObject({
      actor: "secretKey",
      credentialId: id,
    });
    for (const secret of [OPERATOR_TOKEN, a.keys.secret.test]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Bearer |Basic [A-Za-z0-9+/=]{10,}/);
  } finally {
    await logged.stop();
  }
});

test("OpenAPI: the Admin API's five operations, tagged, with the operator token OR the secret key", () => {
  const doc = webauthnOpenApi({ demo: false });
  const ops = [
    doc.paths["/api/v1/credentials"]?.get,
    doc.paths["/api/v1/credentials/{credentialId}"]?.get,
    doc.paths["/api/v1/credentials/{credentialId}/deactivate"]?.post,
    doc.paths["/api/v1/credentials/{credentialId}/reactivate"]?.post,
    doc.paths["/api/v1/stats/passkeys"]?.get,
  ];
  for (const o of ops) {
    expect(o?.tags).toEqual(["Admin API"]);
    expect(o?.security).toEqual([{ passkeyOperatorToken: [] }, { passkeySecretKey: [] }]);
    expect(o?.["x-error-codes"]?.[401]).toEqual(["InvalidAuthorizationHeader"]);
  }
  expect(doc.components.securitySchemes.passkeyOperatorToken).toMatchObject({ type: "http", scheme: "bearer" });
  expect(h.validator.checked).toBeGreaterThan(50);
});
