import type { Mode } from "@authplane/contracts";
import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";

/** Whose deliveries: an organization in one mode (live and test are separate worlds). */
export interface DeliveryScope {
  organizationId: string;
  mode: Mode;
}

type Channel = "email" | "sms";
type Status = "pending" | "sent" | "failed";

export interface DeliveryView {
  id: string;
  channel: Channel;
  /** Masked when the record was written (`j***@example.com`, `+1202*****34`); the full address is never stored. */
  destination: string;
  status: Status;
  attempts: number;
  /** `last_error`: why it failed, or for a pending delivery why the last attempt failed before a retry; null once sent. */
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ListDeliveriesInput {
  status?: Status | undefined;
  channel?: Channel | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Microsecond UTC timestamp as Postgres keeps it, so a page boundary never skips or repeats a row. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const DELIVERY_ID = /^dlv_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The cursor: base64url of `[created_at (µs, UTC), id]` of the last row of the page. */
function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id]), "utf8").toString("base64url");
}

/** The position a cursor names, or a 400 for anything this service did not hand out. */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw Errors.invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw Errors.invalidCursor();
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== "string" || typeof id !== "string" || !CURSOR_TIME.test(createdAt) || !DELIVERY_ID.test(id))
    throw Errors.invalidCursor();
  // A well-formed string can still be no date (month 13, February 30): refuse it here, not as a query error.
  const date = new Date(createdAt);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== createdAt.slice(0, 19)) throw Errors.invalidCursor();
  return { createdAt, id };
}

/** channel and status are written by this service only (deliver-otp.ts), from these values. */
interface Row {
  id: string;
  channel: Channel;
  destination: string;
  status: Status;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  cursor_time: string;
}

/**
 * One page of an organization's deliveries in one mode, newest first (created_at, then id), with
 * optional status and channel filters. Uses `deliveries_org_mode_created_idx` (and, for pending
 * and failed, the partial `deliveries_org_mode_unsent_idx`).
 */
export async function listDeliveries(
  deps: Pick<AppDeps, "prisma">,
  scope: DeliveryScope,
  input: ListDeliveriesInput,
): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
  const params: unknown[] = [scope.organizationId, scope.mode];
  const where = ["organization_id = $1", "mode = $2"];
  if (input.status) {
    params.push(input.status);
    where.push(`status = $${params.length}`);
  }
  if (input.channel) {
    params.push(input.channel);
    where.push(`channel = $${params.length}`);
  }
  if (input.cursor !== undefined) {
    const after = decodeCursor(input.cursor);
    params.push(after.createdAt, after.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(input.limit + 1);
  const rows = await deps.prisma.$queryRawUnsafe<Row[]>(
    `SELECT id, channel, destination, status, attempts, last_error, created_at, updated_at,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time
       FROM deliveries
      WHERE ${where.join(" AND ")}
      ORDER BY created_at DESC, id DESC
      LIMIT $${params.length}`,
    ...params,
  );
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => ({
      id: r.id,
      channel: r.channel,
      destination: r.destination,
      status: r.status,
      attempts: r.attempts,
      failureReason: r.last_error,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    })),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last.cursor_time, last.id) : null,
  };
}
