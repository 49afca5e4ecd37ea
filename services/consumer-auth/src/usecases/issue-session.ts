import { createHash, randomBytes } from "node:crypto";
import {
  type ConsumerCreatedData,
  EventType,
  type EventEnvelope,
  IdPrefix,
  type Mode,
  type OrganizationSettings,
  type SessionCreatedData,
  type SessionResponse,
  type SessionType,
  type SignInMethod,
} from "@authplane/contracts";
import { newEvent, ulid } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** A Prisma client or an interactive-transaction client. */
type Db = PrismaClient | Prisma.TransactionClient;

export interface IssueSessionInput {
  organizationId: string;
  mode: Mode;
  sessionType: SessionType;
  /** How the consumer signed in (stored with the session; the Admin API's numbers count by it). */
  method: SignInMethod;
  consumer: {
    /** `guest_<ULID>` or `cons_<ULID>`. */
    id: string;
    kind: "guest" | "registered";
    email?: string | null;
    phone?: string | null;
    emailVerifiedAt?: Date | null;
    phoneVerifiedAt?: Date | null;
    /** Insert the consumer row (and `consumers.v1.created`) in the same statement as the session. */
    create?: boolean;
  };
  /** The organization's settings from the VerifiedKey (token TTLs). */
  settings: Pick<OrganizationSettings, "accessTokenTtlSeconds" | "refreshTokenTtlSeconds" | "sessionLifetimeSeconds">;
  ip?: string;
  userAgent?: string;
  /** More outbox events written atomically with the session (e.g. consumers.v1.upgraded). */
  extraEvents?: EventEnvelope[];
  /**
   * Run inside the caller's interactive transaction. The caller must then call
   * `deps.relay.kick()` after commit (otherwise the relay's poll publishes within ~0.5 s).
   */
  tx?: Prisma.TransactionClient;
}

/** New consumer ids: `guest_<ULID>` for guests, `cons_<ULID>` for registered consumers. */
export function newConsumerId(kind: "guest" | "registered"): string {
  return `${kind === "guest" ? IdPrefix.guest : IdPrefix.consumer}${ulid()}`;
}

/** Opaque refresh token: `rt_` + 256 random bits; only its SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = `rt_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The session insert (optionally with its consumer), numbered `$n` parameters in `values` order. */
function insertStatement(withConsumer: boolean): { name: string; text: string } {
  let n = 0;
  const p = () => `$${++n}`;
  const cons = withConsumer
    ? `cons AS (
        INSERT INTO consumers (id, organization_id, mode, kind, email, phone, email_verified_at, phone_verified_at)
        VALUES (${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}::timestamptz, ${p()}::timestamptz)
        RETURNING id),`
    : "";
  // Foreign keys are checked at the end of the statement, so the consumer, session and token
  // rows inserted by sibling CTEs satisfy them.
  const text = `WITH ${cons}
    sess AS (
      INSERT INTO sessions (id, organization_id, mode, consumer_id, type, method, access_token_ttl_seconds, refresh_token_ttl_seconds, ip, user_agent, access_expires_at)
      VALUES (${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}::int, ${p()}::int, ${p()}, ${p()}, ${p()}::timestamptz)
      RETURNING id),
    rt AS (
      INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at)
      VALUES (${p()}, ${p()}, ${p()}, ${p()}::timestamptz)
      RETURNING id)
    INSERT INTO outbox_events (id, type, payload)
    SELECT e->>'id', e->>'type', e FROM jsonb_array_elements(${p()}::jsonb) AS e`;
  return { name: withConsumer ? "consumer_auth_issue_session_c" : "consumer_auth_issue_session", text };
}
const INSERT_WITH_CONSUMER = insertStatement(true);
const INSERT_SESSION = insertStatement(false);

/**
 * Creates a session (and its first refresh token, and optionally its consumer) plus the outbox
 * events in ONE SQL statement (data-modifying CTEs: atomic, one round trip), then signs the access
 * token with the cached active key. Returns the seed 000 response body.
 */
export async function issueSession(
  deps: Pick<AppDeps, "tokens" | "prisma" | "relay"> & Partial<Pick<AppDeps, "db">>,
  input: IssueSessionInput,
): Promise<SessionResponse> {
  const now = Date.now();
  const sessionId = `${IdPrefix.session}${ulid()}`;
  // Nothing outlives the session's absolute lifetime (see refreshSession).
  const lifetime = input.settings.sessionLifetimeSeconds;
  const accessTtl = Math.min(deps.tokens.accessTtl(input.settings.accessTokenTtlSeconds), lifetime);
  const refreshTtl = Math.min(input.settings.refreshTokenTtlSeconds, lifetime);
  const refresh = newRefreshToken();
  const refreshExpiresAt = new Date(now + refreshTtl * 1000);
  const scope = { organizationId: input.organizationId, mode: input.mode };
  const c = input.consumer;

  const events: EventEnvelope[] = [];
  if (c.create) {
    const data: ConsumerCreatedData = { consumerId: c.id, kind: c.kind, email: c.email ?? null, phone: c.phone ?? null };
    events.push(newEvent(EventType.consumerCreated, scope, data));
  }
  events.push(...(input.extraEvents ?? []));
  const sessionData: SessionCreatedData = {
    sessionId,
    consumerId: c.id,
    type: input.sessionType,
    refreshTokenExpiresAt: refreshExpiresAt.toISOString(),
  };
  events.push(newEvent(EventType.sessionCreated, scope, sessionData));

  const values: unknown[] = c.create
    ? [
        c.id,
        input.organizationId,
        input.mode,
        c.kind,
        c.email ?? null,
        c.phone ?? null,
        c.emailVerifiedAt ?? null,
        c.phoneVerifiedAt ?? null,
      ]
    : [];
  values.push(sessionId, input.organizationId, input.mode, c.id, input.sessionType, input.method, accessTtl, refreshTtl, input.ip ?? null);
  // The token is signed just after the insert: its exp is at most a second later (the revoked
  // marker's slack covers that).
  values.push(input.userAgent?.slice(0, 512) ?? null, new Date(now + accessTtl * 1000));
  values.push(`rtk_${ulid()}`, sessionId, refresh.hash, refreshExpiresAt, JSON.stringify(events));
  const statement = c.create ? INSERT_WITH_CONSUMER : INSERT_SESSION;
  // Outside a transaction: straight on the pg pool Prisma also uses, as a named (prepared)
  // statement, so Postgres parses and plans it once per connection instead of once per request.
  if (!input.tx && deps.db) await deps.db.query({ name: statement.name, text: statement.text, values });
  else await (input.tx ?? deps.prisma).$executeRawUnsafe(statement.text, ...values);
  if (!input.tx) deps.relay.kick();

  const access = await deps.tokens.sign({ consumerId: c.id, organizationId: input.organizationId, sessionId, mode: input.mode }, accessTtl);
  const accessExpiresAt = new Date(access.exp * 1000).toISOString();
  const session: SessionResponse["session"] = {
    type: input.sessionType,
    consumerId: c.id,
    ...(input.sessionType === "guest" ? { guestId: c.id } : {}),
    ...(c.email ? { email: c.email } : {}),
    ...(c.phone ? { phone: c.phone } : {}),
    expiresAt: accessExpiresAt,
    sessionId,
  };
  return {
    session,
    accessToken: access.token,
    refreshToken: refresh.token,
    accessTokenExpiresAt: accessExpiresAt,
    refreshTokenExpiresAt: refreshExpiresAt.toISOString(),
    refreshTokenTtlSeconds: refreshTtl,
  };
}
