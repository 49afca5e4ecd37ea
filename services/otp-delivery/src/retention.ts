import { type PruneTask, type RetentionPruner, retentionPrunerFromEnv } from "@authplane/service-kit";
import type { AppDeps } from "./deps.js";

/**
 * What otp-delivery deletes, and when (README "Retention"). Each statement deletes at most $1 rows.
 *
 * - deliveries: `sent`/`failed` records last changed more than DELIVERY_RETENTION_DAYS ago, and
 *   `pending` ones created that long ago (their job left the stream after OTP_TTL_SECONDS, which
 *   the retention must exceed, so no redelivery can meet a missing record and send twice).
 * - dev_messages (the dev outbox, and with the live transport the test-mode sink): older than
 *   DEV_OUTBOX_RETENTION_MINUTES, and all but the newest DEV_OUTBOX_MAX_MESSAGES.
 */
function otpDeliveryPruneTasks(env: AppDeps["env"]): PruneTask[] {
  const tasks: PruneTask[] = [
    {
      name: "deliveries",
      sql: `DELETE FROM deliveries WHERE id IN (
              SELECT id FROM deliveries
              WHERE (status <> 'pending' AND updated_at < now() - make_interval(secs => $2::double precision))
                 OR created_at < now() - make_interval(secs => $2::double precision)
              LIMIT $1)`,
      params: () => [env.DELIVERY_RETENTION_DAYS * 86_400],
    },
  ];
  // Always: test-mode jobs are stored there whatever the transport.
  tasks.push(
    {
      name: "dev_messages",
      sql: `DELETE FROM dev_messages WHERE id IN (
                SELECT id FROM dev_messages WHERE created_at < now() - make_interval(secs => $2::double precision) LIMIT $1)`,
      params: () => [env.DEV_OUTBOX_RETENTION_MINUTES * 60],
    },
    {
      name: "dev_messages_over_limit",
      sql: `DELETE FROM dev_messages WHERE id IN (
                SELECT id FROM dev_messages ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $1)`,
      params: () => [env.DEV_OUTBOX_MAX_MESSAGES],
    },
  );
  return tasks;
}

export function createOtpDeliveryPruner(deps: Pick<AppDeps, "env" | "pool" | "logger" | "metrics">): RetentionPruner {
  return retentionPrunerFromEnv(deps, otpDeliveryPruneTasks(deps.env));
}
