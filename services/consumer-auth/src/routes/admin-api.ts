import { AdminConsumer, AdminConsumerList, AdminRevokeResult, AdminSessionList, ConsumerStats } from "@authplane/contracts";
import { z } from "zod";
import { appError, ErrorCatalog } from "../errors.js";
import {
  CONSUMER_ID,
  consumerStats,
  getConsumer,
  listConsumerSessions,
  listConsumers,
  revokeAllConsumerSessions,
  revokeConsumerSession,
  SESSION_ID,
} from "../usecases/admin-consumers.js";
import { adminApi } from "./api.js";

/** The Admin API's prefixes (the gateway routes both to consumer-auth). */
export const ADMIN_CONSUMERS_PREFIX = "/api/v1/consumers";
export const ADMIN_STATS_PATH = "/api/v1/stats/consumers";

/**
 * Admin endpoints: the operator token (+ X-Organization-Id, X-Mode) or the organization's secret
 * key; the per-IP budget of the public endpoints (a secret key's own budget on top).
 */
const admin = { auth: "operatorToken", rateLimit: "publicIp" } as const;

/** No control characters (they have no business in an id, an email or a phone number). */
const PRINTABLE = /^[^\p{Cc}]*$/u;

/**
 * A path id: malformed answers the same 404 as an unknown id, before any query (admin-key's
 * `pathId` convention).
 */
function pathId(pattern: RegExp, notFound: { status: number; code: string; message?: string }, description: string) {
  return z
    .string()
    .meta({ description })
    .transform((value) => {
      if (value.length > 80 || !pattern.test(value)) throw appError(notFound);
      return value;
    });
}
const consumerId = pathId(CONSUMER_ID, ErrorCatalog.consumerNotFound, "The consumer's id (cons_… or guest_…).");
const ConsumerParams = z.object({ consumerId });
const SessionParams = z.object({
  consumerId,
  sessionId: pathId(SESSION_ID, ErrorCatalog.sessionNotFound, "The session's id (sess_…)."),
});

const limit = z.coerce.number().int().min(1).max(100).default(25).meta({ description: "Page size, 1–100 (default 25)." });
const cursor = z
  .string()
  .max(256)
  .regex(/^[A-Za-z0-9_-]+$/, "Not a cursor of this list (pass nextCursor as is).")
  .optional()
  .meta({ description: "`nextCursor` of the previous page." });

const ListConsumersQuery = z.object({
  q: z
    .string()
    .max(320)
    .regex(PRINTABLE, "No control characters")
    .transform((v) => v.trim())
    .optional()
    .meta({
      description:
        "A consumer id (exact), an email address (case-insensitive; without `@`, the start of one) or a phone number (E.164 after normalisation).",
    }),
  limit,
  cursor,
});

const ListSessionsQuery = z.object({
  includeRevoked: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .meta({ description: "Also list revoked sessions (default false)." }),
  limit,
  cursor,
});

const StatsQuery = z.object({
  days: z.coerce.number().int().min(1).max(90).default(14).meta({ description: "UTC days, today included (1–90, default 14)." }),
});

const consumerNotFound = { 404: [ErrorCatalog.consumerNotFound.code] } as const;

export const adminEndpoints = [
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: ADMIN_CONSUMERS_PREFIX,
    summary: "List or search the organization's consumers (this mode), newest first",
    description:
      "`q` matches a consumer id, an email address (case-insensitive; without `@` a prefix) or a phone number. " +
      "Pass `nextCursor` as `cursor` for the next page.",
    query: ListConsumersQuery,
    responses: { 200: AdminConsumerList },
    handler: (deps, { caller, query }) =>
      listConsumers(deps, caller.scope, { q: query.q || undefined, limit: query.limit, cursor: query.cursor }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: `${ADMIN_CONSUMERS_PREFIX}/{consumerId}`,
    summary: "One consumer",
    params: ConsumerParams,
    responses: { 200: AdminConsumer },
    errors: consumerNotFound,
    handler: (deps, { caller, params }) => getConsumer(deps, caller.scope, params.consumerId),
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: `${ADMIN_CONSUMERS_PREFIX}/{consumerId}/sessions`,
    summary: "A consumer's sessions, newest first (never a token)",
    params: ConsumerParams,
    query: ListSessionsQuery,
    responses: { 200: AdminSessionList },
    errors: consumerNotFound,
    handler: (deps, { caller, params, query }) => listConsumerSessions(deps, caller.scope, { consumerId: params.consumerId, ...query }),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: `${ADMIN_CONSUMERS_PREFIX}/{consumerId}/sessions/{sessionId}/revoke`,
    summary: "Revoke one session (as logout does: its tokens stop working at once)",
    description: "`{revoked: 0}` when it was already revoked. Publishes `sessions.v1.revoked` with reason `admin`.",
    params: SessionParams,
    responses: { 200: AdminRevokeResult },
    errors: { 404: [ErrorCatalog.consumerNotFound.code, ErrorCatalog.sessionNotFound.code] },
    handler: (deps, { caller, params }) => revokeConsumerSession(deps, caller, params),
  }),
  adminApi.endpoint({
    ...admin,
    method: "post",
    path: `${ADMIN_CONSUMERS_PREFIX}/{consumerId}/sessions/revoke`,
    summary: "Revoke every live session of a consumer (as logout does, one by one)",
    description: "`revoked`: how many this call revoked. Publishes `sessions.v1.revoked` (reason `admin`) for each.",
    params: ConsumerParams,
    responses: { 200: AdminRevokeResult },
    errors: consumerNotFound,
    handler: (deps, { caller, params }) => revokeAllConsumerSessions(deps, caller, params),
  }),
  adminApi.endpoint({
    ...admin,
    method: "get",
    path: ADMIN_STATS_PATH,
    summary: "Sign-ins per UTC day by method, live sessions, consumers by kind",
    query: StatsQuery,
    responses: { 200: ConsumerStats },
    handler: (deps, { caller, query }) => consumerStats(deps, caller.scope, query),
  }),
];
