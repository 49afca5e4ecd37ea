import type { PasskeyStats } from "@authplane/contracts";
import type { AdminCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";

const DAY_MS = 86_400_000;

/**
 * Admin API: per UTC day of the last `days` days (today included, oldest first, every day
 * present), the passkeys registered (attached to a user: `credentials.created_at`) and the
 * successful sign-ins (verified assertions: `passkey_daily_stats`, counted in the sign-in's own
 * transaction); and now, the active passkeys and the distinct users holding at least one.
 */
export async function passkeyStats(deps: AppDeps, input: AdminCaller & { days: number }): Promise<PasskeyStats> {
  const { organizationId, mode } = input.scope;
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const first = new Date(today - (input.days - 1) * DAY_MS);
  const firstDate = first.toISOString().slice(0, 10);
  const [registrations, verifications, totals] = await Promise.all([
    deps.prisma.$queryRaw<Array<{ day: string; n: number }>>`
      SELECT to_char((created_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
        FROM credentials
       WHERE organization_id = ${organizationId} AND mode = ${mode} AND created_at >= ${first}
       GROUP BY 1`,
    deps.prisma.$queryRaw<Array<{ day: string; n: number }>>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, verifications AS n
        FROM passkey_daily_stats
       WHERE organization_id = ${organizationId} AND mode = ${mode} AND day >= ${firstDate}::date`,
    deps.prisma.$queryRaw<Array<{ active: number; users: number }>>`
      SELECT count(*)::int AS active, count(DISTINCT user_id)::int AS users
        FROM credentials
       WHERE organization_id = ${organizationId} AND mode = ${mode} AND is_active`,
  ]);
  const reg = new Map(registrations.map((r) => [r.day, Number(r.n)]));
  const ver = new Map(verifications.map((r) => [r.day, Number(r.n)]));
  const days: PasskeyStats["days"] = [];
  for (let i = 0; i < input.days; i++) {
    const date = new Date(first.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    days.push({ date, registrations: reg.get(date) ?? 0, verifications: ver.get(date) ?? 0 });
  }
  return { days, activeCredentials: Number(totals[0]?.active ?? 0), usersWithPasskeys: Number(totals[0]?.users ?? 0) };
}
