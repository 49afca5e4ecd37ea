import type { Mode } from "@authplane/contracts";
import { ulid } from "@authplane/service-kit";
import type { Prisma } from "../generated/prisma/client.js";
import type { Reader } from "../store.js";
import type { Principal } from "./principal.js";

/**
 * The console's audit log (`dashboard_audit_events`): every change made through the console, with
 * who (the principal), when, on which organization and mode, what (`action`, `target`) and the
 * non-secret particulars (`details`: field names and new setting values, a key's id/prefix/last
 * four, a grace period — never a key, token or code). Written right after the change succeeded.
 */

/** What the console does, as recorded. Extend this list when adding an action. */
type AuditAction =
  | "session.sign_in"
  | "session.sign_out"
  | "organization.create"
  | "key.create"
  | "key.rotate"
  | "key.revoke"
  | "settings.update"
  | "consumer.session.revoke"
  | "consumer.sessions.revoke_all"
  | "passkey.deactivate"
  | "passkey.reactivate"
  | "admin.invite"
  | "admin.remove"
  | "admin.passkey_register";

export interface AuditEntry {
  organizationId?: string | null;
  mode?: Mode | null;
  action: AuditAction;
  /** The thing acted on: a key id, an organization id, a consumer or session id. */
  target?: string | null;
  details?: Prisma.InputJsonObject;
}

export interface AuditActor {
  principal: Principal;
  ip: string | null;
}

export async function writeAudit(deps: Reader, actor: AuditActor, entry: AuditEntry): Promise<void> {
  await deps.prisma.dashboardAuditEvent.create({
    data: {
      id: `aud_${ulid()}`,
      actorKind: actor.principal.kind,
      actorId: actor.principal.id,
      actorLabel: actor.principal.label,
      organizationId: entry.organizationId ?? null,
      mode: entry.mode ?? null,
      action: entry.action,
      target: entry.target ?? null,
      details: entry.details ?? {},
      ip: actor.ip,
    },
  });
}

export interface AuditRow {
  id: string;
  at: Date;
  actorKind: string;
  actorId: string;
  actorLabel: string;
  organizationId: string | null;
  mode: string | null;
  action: string;
  target: string | null;
  details: unknown;
  ip: string | null;
}

/**
 * Audit events, newest first (keyset pagination on the time-ordered id). `organizationIds` null:
 * all (operator); otherwise only events of those organizations.
 */
export async function listAudit(
  deps: Reader,
  input: { organizationId?: string; organizationIds: string[] | null; limit: number; before?: string },
): Promise<{ events: AuditRow[]; nextBefore: string | null }> {
  const where: Prisma.DashboardAuditEventWhereInput = {};
  if (input.organizationIds) where.organizationId = { in: input.organizationIds };
  if (input.organizationId) where.AND = [{ organizationId: input.organizationId }];
  if (input.before) where.id = { lt: input.before };
  const rows = await deps.prisma.dashboardAuditEvent.findMany({ where, orderBy: { id: "desc" }, take: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  return { events: page, nextBefore: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
}
