import type {
  AdminConsumer,
  AdminConsumerList,
  AdminRevokeResult,
  AdminSession,
  AdminSessionList,
  ConsumerStats,
  SessionType,
  SignInMethod,
} from "@authplane/contracts";
import { ValidationError } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { Prisma } from "../generated/prisma/client.js";
import { normalizePhone } from "../otp/normalize-identity.js";
import type { AdminCaller, Scope } from "../scope.js";
import { revokeSession } from "./revoke-session.js";

/**
 * The Admin API's use cases (issue 14): consumers, their sessions and the sign-in numbers of ONE
 * organization and mode (the caller's scope). Every query is bounded by that scope: a consumer or
 * session of another organization or mode is never listed and answers 404 like an unknown id.
 * Input is validated before any query runs (routes/admin-api.ts and `parseCursor`), so a bad
 * parameter is a 400 of its own request and never reaches Postgres.
 */

type Deps = Pick<AppDeps, "prisma" | "redis" | "relay" | "logger">;

/** Consumer ids as the service makes them (`cons_<ULID>`, `guest_<ULID>`). */
export const CONSUMER_ID = /^(cons|guest)_[0-9A-Za-z]{1,64}$/;
/** Session ids (`sess_<ULID>`). */
export const SESSION_ID = /^sess_[0-9A-Za-z]{1,64}$/;

/** A live session: not revoked, and an access token or an unspent refresh token still valid. */
const ACTIVE_SESSION = Prisma.sql`s.revoked_at IS NULL AND (s.access_expires_at > now() OR EXISTS (
  SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()))`;

/** created_at with its microseconds, as text (a JS Date would round to milliseconds and page badly). */
const CURSOR_AT = (column: Prisma.Sql) => Prisma.sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface Cursor {
  at: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), "utf8").toString("base64url");
}

/** The opaque `cursor` of a list (from its `nextCursor`), or a 400 naming it. */
function parseCursor(raw: string | undefined, id: RegExp): Cursor | null {
  if (raw === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2) {
      const [at, rowId] = value as unknown[];
      if (typeof at === "string" && CURSOR_TIME.test(at) && !Number.isNaN(Date.parse(at)) && typeof rowId === "string" && id.test(rowId))
        return { at, id: rowId };
    }
  } catch {
    /* not base64url JSON: the 400 below */
  }
  throw new ValidationError([
    { path: ["query", "cursor"], message: "Not a cursor of this list (pass nextCursor as is).", code: "invalid_cursor" },
  ]);
}

/** What `q` of the consumer search means. */
type ConsumerQuery =
  | { by: "id"; value: string }
  | { by: "email"; value: string }
  | { by: "emailPrefix"; value: string }
  | { by: "phone"; value: string };

/**
 * `q`: a consumer id (exact); with an `@`, an email (case-insensitive, exact); a phone number
 * (`+` and digits, normalised to E.164, exact); anything else, the start of an email address
 * (case-insensitive).
 */
function parseConsumerQuery(q: string): ConsumerQuery {
  if (CONSUMER_ID.test(q)) return { by: "id", value: q };
  if (q.includes("@")) return { by: "email", value: q.toLowerCase() };
  if (/^\+?[0-9 ().-]{4,40}$/.test(q)) {
    const phone = normalizePhone(q);
    if (phone) return { by: "phone", value: phone.e164 };
  }
  return { by: "emailPrefix", value: q.toLowerCase() };
}

function likePrefix(value: string): string {
  return `${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function queryFilter(q: ConsumerQuery | null): Prisma.Sql {
  if (!q) return Prisma.empty;
  switch (q.by) {
    case "id":
      return Prisma.sql`AND c.id = ${q.value}`;
    case "email":
      return Prisma.sql`AND c.email IS NOT NULL AND lower(c.email) = ${q.value}`;
    case "emailPrefix":
      return Prisma.sql`AND c.email IS NOT NULL AND lower(c.email) LIKE ${likePrefix(q.value)}`;
    case "phone":
      return Prisma.sql`AND c.phone = ${q.value}`;
  }
}

interface ConsumerRow {
  id: string;
  kind: string;
  email: string | null;
  phone: string | null;
  email_verified_at: Date | null;
  phone_verified_at: Date | null;
  created_at: Date;
  upgraded_at: Date | null;
  cursor_at: string;
  active_sessions: number;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function consumerView(r: ConsumerRow): AdminConsumer {
  return {
    id: r.id,
    kind: r.kind === "guest" ? "guest" : "registered",
    email: r.email,
    phone: r.phone,
    emailVerifiedAt: iso(r.email_verified_at),
    phoneVerifiedAt: iso(r.phone_verified_at),
    createdAt: r.created_at.toISOString(),
    upgradedAt: iso(r.upgraded_at),
    activeSessions: r.active_sessions,
  };
}

function selectConsumers(scope: Scope, where: Prisma.Sql, limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT c.id, c.kind, c.email, c.phone, c.email_verified_at, c.phone_verified_at, c.created_at, c.upgraded_at,
      ${CURSOR_AT(Prisma.sql`c.created_at`)} AS cursor_at,
      (SELECT count(*)::int FROM sessions s WHERE s.consumer_id = c.id AND ${ACTIVE_SESSION}) AS active_sessions
    FROM consumers c
    WHERE c.organization_id = ${scope.organizationId} AND c.mode = ${scope.mode} ${where}
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT ${limit}`;
}

/** GET /api/v1/consumers: the scope's consumers, newest first, optionally matching `q`. */
export async function listConsumers(
  deps: Pick<AppDeps, "prisma">,
  scope: Scope,
  input: { q?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<AdminConsumerList> {
  const cursor = parseCursor(input.cursor, CONSUMER_ID);
  const q = input.q ? parseConsumerQuery(input.q) : null;
  const after = cursor ? Prisma.sql`AND (c.created_at, c.id) < (${cursor.at}::timestamptz, ${cursor.id})` : Prisma.empty;
  const rows = await deps.prisma.$queryRaw<ConsumerRow[]>(selectConsumers(scope, Prisma.sql`${queryFilter(q)} ${after}`, input.limit + 1));
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(consumerView),
    nextCursor: rows.length > input.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

async function findConsumer(deps: Pick<AppDeps, "prisma">, scope: Scope, consumerId: string): Promise<ConsumerRow> {
  const [row] = await deps.prisma.$queryRaw<ConsumerRow[]>(selectConsumers(scope, Prisma.sql`AND c.id = ${consumerId}`, 1));
  if (!row) throw appError(ErrorCatalog.consumerNotFound);
  return row;
}

/** GET /api/v1/consumers/{consumerId} (404 consumer_not_found outside the scope). */
export async function getConsumer(deps: Pick<AppDeps, "prisma">, scope: Scope, consumerId: string): Promise<AdminConsumer> {
  return consumerView(await findConsumer(deps, scope, consumerId));
}

interface SessionRow {
  id: string;
  type: string;
  method: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_refreshed_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
  refresh_expires_at: Date | null;
  cursor_at: string;
}

function sessionView(r: SessionRow): AdminSession {
  return {
    id: r.id,
    type: r.type as SessionType,
    method: r.method as SignInMethod,
    ip: r.ip,
    userAgent: r.user_agent,
    createdAt: r.created_at.toISOString(),
    lastRefreshedAt: iso(r.last_refreshed_at),
    ...(r.refresh_expires_at && !r.revoked_at ? { refreshExpiresAt: r.refresh_expires_at.toISOString() } : {}),
    revokedAt: iso(r.revoked_at),
    revokedReason: r.revoked_reason,
  };
}

/** GET /api/v1/consumers/{consumerId}/sessions: newest first; revoked ones only with `includeRevoked`. */
export async function listConsumerSessions(
  deps: Pick<AppDeps, "prisma">,
  scope: Scope,
  input: { consumerId: string; includeRevoked: boolean; limit: number; cursor?: string | undefined },
): Promise<AdminSessionList> {
  const cursor = parseCursor(input.cursor, SESSION_ID);
  await findConsumer(deps, scope, input.consumerId);
  const rows = await deps.prisma.$queryRaw<SessionRow[]>`
    SELECT s.id, s.type, s.method, s.ip, s.user_agent, s.created_at, s.last_refreshed_at, s.revoked_at, s.revoked_reason,
      ${CURSOR_AT(Prisma.sql`s.created_at`)} AS cursor_at,
      (SELECT max(r.expires_at) FROM refresh_tokens r
        WHERE r.session_id = s.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()) AS refresh_expires_at
    FROM sessions s
    WHERE s.consumer_id = ${input.consumerId} AND s.organization_id = ${scope.organizationId} AND s.mode = ${scope.mode}
      ${input.includeRevoked ? Prisma.empty : Prisma.sql`AND s.revoked_at IS NULL`}
      ${cursor ? Prisma.sql`AND (s.created_at, s.id) < (${cursor.at}::timestamptz, ${cursor.id})` : Prisma.empty}
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT ${input.limit + 1}`;
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(sessionView),
    nextCursor: rows.length > input.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

const SESSION_FOR_REVOKE = { id: true, organizationId: true, mode: true, consumerId: true, accessExpiresAt: true } as const;

/**
 * POST …/sessions/{sessionId}/revoke: the same revocation as logout (`revokeSession`: the Redis
 * marker /check and /introspect read, the session and its refresh tokens revoked in Postgres,
 * `sessions.v1.revoked`), with reason `admin`. `{revoked: 0}` when it was already revoked.
 */
export async function revokeConsumerSession(
  deps: Deps,
  caller: AdminCaller,
  input: { consumerId: string; sessionId: string },
): Promise<AdminRevokeResult> {
  const { scope } = caller;
  await findConsumer(deps, scope, input.consumerId);
  const session = await deps.prisma.session.findFirst({
    where: { id: input.sessionId, consumerId: input.consumerId, organizationId: scope.organizationId, mode: scope.mode },
    select: SESSION_FOR_REVOKE,
  });
  if (!session) throw appError(ErrorCatalog.sessionNotFound);
  const revoked = (await revokeSession(deps, { session, reason: "admin" })) ? 1 : 0;
  deps.logger.info(
    { ...scope, consumerId: input.consumerId, sessionId: session.id, revoked, actor: caller.actor },
    "session revoked (admin)",
  );
  return { revoked };
}

/** POST …/sessions/revoke: every live session of the consumer, each as `revokeConsumerSession` does. */
export async function revokeAllConsumerSessions(
  deps: Deps,
  caller: AdminCaller,
  input: { consumerId: string },
): Promise<AdminRevokeResult> {
  const { scope } = caller;
  await findConsumer(deps, scope, input.consumerId);
  const sessions = await deps.prisma.session.findMany({
    where: { consumerId: input.consumerId, organizationId: scope.organizationId, mode: scope.mode, revokedAt: null },
    select: SESSION_FOR_REVOKE,
  });
  let revoked = 0;
  // One at a time: each is logout's own transaction (its row, then its refresh tokens).
  for (const session of sessions) if (await revokeSession(deps, { session, reason: "admin" })) revoked++;
  deps.logger.info({ ...scope, consumerId: input.consumerId, revoked, actor: caller.actor }, "consumer's sessions revoked (admin)");
  return { revoked };
}

const DAY_MS = 86_400_000;

/**
 * GET /api/v1/stats/consumers: sign-ins (sessions created) per UTC day and method over the last
 * `days` days (today included, oldest first, every day present), counting the sessions still
 * stored and those the retention pruner deleted (`pruned_sign_ins`), in one statement; live
 * sessions; consumers by kind.
 */
export async function consumerStats(deps: Pick<AppDeps, "prisma">, scope: Scope, input: { days: number }): Promise<ConsumerStats> {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const first = new Date(today - (input.days - 1) * DAY_MS);
  const firstDate = first.toISOString().slice(0, 10);
  const { organizationId, mode } = scope;
  const [perDay, active, consumers] = await Promise.all([
    deps.prisma.$queryRaw<Array<{ date: string; method: string; n: number }>>`
      SELECT to_char(t.day, 'YYYY-MM-DD') AS date, t.method, sum(t.n)::int AS n FROM (
        SELECT (s.created_at AT TIME ZONE 'UTC')::date AS day, s.method, count(*) AS n
        FROM sessions s
        WHERE s.organization_id = ${organizationId} AND s.mode = ${mode} AND s.created_at >= ${first.toISOString()}::timestamptz
        GROUP BY 1, 2
        UNION ALL
        SELECT p.day, p.method, p.count AS n FROM pruned_sign_ins p
        WHERE p.organization_id = ${organizationId} AND p.mode = ${mode} AND p.day >= ${firstDate}::date
      ) t
      GROUP BY t.day, t.method`,
    deps.prisma.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM sessions s WHERE s.organization_id = ${organizationId} AND s.mode = ${mode} AND ${ACTIVE_SESSION}`,
    deps.prisma.$queryRaw<Array<{ total: number; registered: number; guest: number }>>`
      SELECT count(*)::int AS total, (count(*) FILTER (WHERE kind = 'registered'))::int AS registered,
        (count(*) FILTER (WHERE kind = 'guest'))::int AS guest
      FROM consumers WHERE organization_id = ${organizationId} AND mode = ${mode}`,
  ]);
  const days: ConsumerStats["days"] = [];
  const byDate = new Map<string, ConsumerStats["days"][number]["signIns"]>();
  for (let i = 0; i < input.days; i++) {
    const date = new Date(first.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    const signIns = { guest: 0, email_otp: 0, phone_otp: 0, external: 0 };
    byDate.set(date, signIns);
    days.push({ date, signIns });
  }
  for (const row of perDay) {
    const signIns = byDate.get(row.date);
    if (signIns && row.method in signIns) signIns[row.method as SignInMethod] += row.n;
  }
  return {
    days,
    activeSessions: active[0]?.n ?? 0,
    consumers: { total: consumers[0]?.total ?? 0, registered: consumers[0]?.registered ?? 0, guest: consumers[0]?.guest ?? 0 },
  };
}
