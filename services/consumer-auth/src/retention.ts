import { type PruneTask, type RetentionPruner, retentionPrunerFromEnv } from "@authplane/service-kit";
import type { AppDeps } from "./deps.js";

const DAY_SECONDS = 86_400;
/** Days of `pruned_sign_ins` kept: the Admin API's stats window is at most 90 days. */
const PRUNED_SIGN_INS_KEPT_DAYS = 92;

/**
 * What consumer-auth deletes, and when (README "Retention"). Each statement deletes at most $1
 * rows; $2 is the retention in seconds. Child rows go with their parent (ON DELETE CASCADE).
 *
 * - refresh_tokens: expired more than REFRESH_TOKEN_RETENTION_DAYS ago. An expired token can
 *   neither refresh (refresh checks expiry before spent/revoked) nor keep an expired access token
 *   alive (verifySessionToken needs an unexpired one), so nothing needs it any more.
 * - sessions: the last access token expired more than SESSION_RETENTION_DAYS ago (so no token of
 *   it is valid, and the revoked-session rebuild, which reads revoked sessions whose access tokens
 *   may be alive, no longer needs it) AND either it was revoked that long ago or no refresh token
 *   of it expires later (nothing can renew it).
 *   Its sign-in is added to `pruned_sign_ins` (per organization, mode, UTC day and method) by the
 *   same statement, so the Admin API's sign-ins per day do not drop when sessions are deleted.
 * - consumers: guests never upgraded, created more than GUEST_RETENTION_DAYS ago, with no session
 *   left (a guest lives only through its sessions).
 * - pruned_sign_ins: days older than the Admin API's longest window.
 */
function consumerAuthPruneTasks(env: AppDeps["env"]): PruneTask[] {
  return [
    {
      name: "sessions",
      // The deleted sessions' sign-ins go to pruned_sign_ins in the same statement (the Admin
      // API's daily numbers); one row returned per deleted session (the batch's count).
      sql: `WITH deleted AS (
              DELETE FROM sessions WHERE id IN (
                SELECT s.id FROM sessions s
                WHERE s.access_expires_at < now() - make_interval(secs => $2::double precision)
                  AND (s.revoked_at < now() - make_interval(secs => $2::double precision)
                       OR NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id
                                      AND r.expires_at >= now() - make_interval(secs => $2::double precision)))
                LIMIT $1)
              RETURNING organization_id, mode, method, created_at),
            counted AS (
              INSERT INTO pruned_sign_ins (organization_id, mode, day, method, count)
              SELECT organization_id, mode, (created_at AT TIME ZONE 'UTC')::date, method, count(*)
              FROM deleted GROUP BY 1, 2, 3, 4
              ON CONFLICT (organization_id, mode, day, method) DO UPDATE SET count = pruned_sign_ins.count + EXCLUDED.count)
            SELECT 1 FROM deleted`,
      params: () => [env.SESSION_RETENTION_DAYS * DAY_SECONDS],
    },
    {
      name: "refresh_tokens",
      sql: `DELETE FROM refresh_tokens WHERE id IN (
              SELECT id FROM refresh_tokens WHERE expires_at < now() - make_interval(secs => $2::double precision) LIMIT $1)`,
      params: () => [env.REFRESH_TOKEN_RETENTION_DAYS * DAY_SECONDS],
    },
    {
      name: "guests",
      sql: `DELETE FROM consumers WHERE id IN (
              SELECT c.id FROM consumers c
              WHERE c.kind = 'guest' AND c.upgraded_at IS NULL
                AND c.created_at < now() - make_interval(secs => $2::double precision)
                AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.consumer_id = c.id)
              LIMIT $1)`,
      params: () => [env.GUEST_RETENTION_DAYS * DAY_SECONDS],
    },
    {
      // The Admin API reads at most 90 days back.
      name: "pruned_sign_ins",
      sql: `DELETE FROM pruned_sign_ins WHERE (organization_id, mode, day, method) IN (
              SELECT organization_id, mode, day, method FROM pruned_sign_ins
              WHERE day < (now() AT TIME ZONE 'UTC')::date - $2::int LIMIT $1)`,
      params: () => [PRUNED_SIGN_INS_KEPT_DAYS],
    },
  ];
}

export function createConsumerAuthPruner(deps: Pick<AppDeps, "env" | "pool" | "logger" | "metrics">): RetentionPruner {
  return retentionPrunerFromEnv(deps, consumerAuthPruneTasks(deps.env));
}
