import type { AppDeps } from "../deps.js";
import type { DeliveryScope } from "./list-deliveries.js";

export interface DeliveryStats {
  /** One entry per UTC day of the window, oldest first, every day present (zeros included). */
  days: Array<{ date: string; sent: number; failed: number; pending: number }>;
  /** sent / (sent + failed) over the window; null when nothing was sent or failed. */
  successRate: number | null;
}

const DAY_MS = 86_400_000;

/**
 * Deliveries of an organization in one mode created in the last `days` UTC days (today included),
 * counted by day and current status. Days older than DELIVERY_RETENTION_DAYS count what retention
 * left (nothing, after a round).
 */
export async function deliveryStats(
  deps: Pick<AppDeps, "prisma">,
  scope: DeliveryScope,
  input: { days: number },
  now: Date = new Date(),
): Promise<DeliveryStats> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const start = today - (input.days - 1) * DAY_MS;
  const rows = await deps.prisma.$queryRawUnsafe<Array<{ date: string; status: string; n: number }>>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, status, count(*)::int AS n
       FROM deliveries
      WHERE organization_id = $1 AND mode = $2 AND created_at >= $3::timestamptz
      GROUP BY 1, 2`,
    scope.organizationId,
    scope.mode,
    new Date(start).toISOString(),
  );
  const days = Array.from({ length: input.days }, (_, i) => ({
    date: new Date(start + i * DAY_MS).toISOString().slice(0, 10),
    sent: 0,
    failed: 0,
    pending: 0,
  }));
  const byDate = new Map(days.map((d) => [d.date, d]));
  for (const r of rows) {
    const day = byDate.get(r.date);
    if (day && (r.status === "sent" || r.status === "failed" || r.status === "pending")) day[r.status] += r.n;
  }
  const sent = days.reduce((s, d) => s + d.sent, 0);
  const failed = days.reduce((s, d) => s + d.failed, 0);
  return { days, successRate: sent + failed === 0 ? null : sent / (sent + failed) };
}
