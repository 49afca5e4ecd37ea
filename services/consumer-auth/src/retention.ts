import { type PruneTask, type RetentionPruner, retentionPrunerFromEnv } from "@authplane/service-kit";
import type { AppDeps } from "./deps.js";

const DAY_SECONDS = 86_400;

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
 * - consumers: guests never upgraded, created more than GUEST_RETENTION_DAYS ago, with no session
 *   left (a guest lives only through its sessions).
 */
function consumerAuthPruneTasks(env: AppDeps["env"]): PruneTask[] {
  return [
    {
      name: "sessions",
      sql: `DELETE FROM sessions WHERE id IN (
              SELECT s.id FROM sessions s
              WHERE s.access_expires_at < now() - make_interval(secs => $2::double precision)
                AND (s.revoked_at < now() - make_interval(secs => $2::double precision)
                     OR NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id
                                    AND r.expires_at >= now() - make_interval(secs => $2::double precision)))
              LIMIT $1)`,
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
  ];
}

export function createConsumerAuthPruner(deps: Pick<AppDeps, "env" | "pool" | "logger" | "metrics">): RetentionPruner {
  return retentionPrunerFromEnv(deps, consumerAuthPruneTasks(deps.env));
}
