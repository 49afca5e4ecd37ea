import { EventType, IdPrefix, type EventEnvelope, type OtpDeliveryOutcomeData, type OtpRequestedData } from "@authplane/contracts";
import type { KeyObject } from "node:crypto";
import { type Logger, newEvent, openOtpCode, type OtpMetrics, outboxRow, type PgPool, SealOpenError, ulid } from "@authplane/service-kit";
import { GroupCommit } from "../group-commit.js";
import { maskDestination } from "../mask-destination.js";
import { DeliveryError, type Transports } from "../transports/transport.js";

export interface DeliverOtpDeps {
  /**
   * The service's own schema (search_path). Plain SQL on a pg pool rather than Prisma on this
   * path: under a flood Prisma's per-query work was a third of the CPU of a delivery.
   */
  db: Pick<PgPool, "query">;
  transports: Transports;
  /** Private keys that open the sealed codes (OTP_SEAL_PRIVATE_KEY). */
  sealKeys: KeyObject[];
  logger: Logger;
  /** Called after an outcome event was committed to the outbox (relay it now). */
  onOutboxWrite: () => void;
  /** Retry delays (ms) after the n-th failed attempt (the last one repeats). */
  backoffMs: number[];
  /** Attempts after which a transiently failing job is given up. */
  maxAttempts: number;
  /** How long one instance holds a job while sending (others wait rather than send too). */
  leaseMs: number;
  /** Counts outcomes (`otp_delivery_attempts_total{channel, outcome="sent"|"failed"}`). */
  metrics?: OtpMetrics;
}

/** What the consumer does with the JetStream message afterwards. */
export type DeliveryDecision = { kind: "ack" } | { kind: "retry"; delayMs: number };

export interface DeliveryJob {
  envelope: EventEnvelope;
  data: OtpRequestedData;
  /** JetStream delivery count of this message (1 on first delivery). */
  deliveryCount: number;
}

interface ClaimedRow {
  id: string;
  attempts: number;
}

/**
 * Delivers one `otp.v1.requested` job at most once per event id:
 *  1. claim: one INSERT … ON CONFLICT (event_id) DO UPDATE … WHERE that creates the record already
 *     leased, or takes the lease only while it is `pending` and nobody else holds it;
 *  2. a job already `sent`/`failed` is just acknowledged; one leased by another instance waits;
 *  3. send, then record `sent` + `otp.v1.delivered` (or `failed` + `otp.v1.delivery_failed`) and the
 *     outbox row in one statement; a transient failure releases the lease and retries later.
 * Claims and outcomes are group commits: a batch of jobs in hand costs about two statements.
 * A crash between the provider accepting and step 3 committing is the one window where a second
 * message can go out (after the lease expires): SMTP and the SMS API offer no idempotency key to
 * close it; the dev/test sink does (one message per delivery id, OtpMessage.idempotencyKey).
 */
export async function deliverOtp(deps: DeliverOtpDeps, job: DeliveryJob): Promise<DeliveryDecision> {
  const { envelope, data } = job;
  const destination = maskDestination(data.channel, data.to);
  // The job's fields go into each line rather than a pino child: a child serializes (and redacts)
  // its bindings when created, ~5 % of the service's CPU per message under load even when the
  // level writes no line; a disabled level's call costs nothing here but the small object.
  const where = { eventId: envelope.id, requestId: data.requestId, channel: data.channel, to: destination };
  const log = deps.logger;

  const claimed = await claim(deps, job, destination);
  if (!claimed) {
    const { rows } = await deps.db.query<{ status: string; locked_until: Date | null }>(
      "SELECT status, locked_until FROM deliveries WHERE event_id = $1",
      [envelope.id],
    );
    const row = rows[0];
    if (row?.status !== "pending") {
      log.debug({ ...where, status: row?.status }, "job already handled; acknowledging");
      return { kind: "ack" };
    }
    const waitMs = Math.max(500, (row.locked_until?.getTime() ?? Date.now()) - Date.now());
    log.debug({ ...where, waitMs }, "job is being sent by another instance");
    return { kind: "retry", delayMs: waitMs };
  }

  if (Date.parse(data.expiresAt) <= Date.now()) {
    await finish(deps, job, claimed, destination, { status: "failed", error: "code expired before it could be delivered" });
    log.warn({ ...where, attempts: claimed.attempts }, "otp delivery failed: code expired before delivery");
    return { kind: "ack" };
  }

  // Only here is the code in clear: opened for this job (id, organization, mode, request,
  // channel, destination), so a box that was altered or moved to another job is refused.
  let code: string;
  try {
    code = openOtpCode(data.sealedCode, deps.sealKeys, {
      eventId: envelope.id,
      organizationId: envelope.organizationId,
      mode: envelope.mode,
      requestId: data.requestId,
      channel: data.channel,
      to: data.to,
    });
  } catch (err) {
    if (!(err instanceof SealOpenError)) throw err;
    // Permanent: no retry can open it. Recorded as failed, acknowledged, never sent.
    await finish(deps, job, claimed, destination, { status: "failed", error: `sealed code refused: ${err.message}` });
    log.warn({ ...where, attempts: claimed.attempts, error: err.message }, "otp delivery refused: the sealed code does not open");
    return { kind: "ack" };
  }

  let providerMessageId: string | null;
  try {
    // Test keys never reach a real provider: their jobs go to the test sink (dev_messages).
    const transport = envelope.mode === "test" ? deps.transports.testSink : deps.transports[data.channel];
    ({ providerMessageId } = await transport.send({
      channel: data.channel,
      to: data.to,
      code,
      organizationName: data.organizationName,
      ttlSeconds: data.ttlSeconds,
      idempotencyKey: claimed.id,
    }));
  } catch (err) {
    const failure =
      err instanceof DeliveryError ? err : new DeliveryError(`unexpected transport error (${(err as Error).name ?? "error"})`, false);
    // Belt and braces: whatever a provider echoed, the code never reaches a record or a log line.
    const error = scrub(failure.message, code);
    const outOfAttempts = claimed.attempts >= deps.maxAttempts || job.deliveryCount >= deps.maxAttempts;
    if (failure.permanent || outOfAttempts) {
      await finish(deps, job, claimed, destination, { status: "failed", error });
      log.warn({ ...where, attempts: claimed.attempts, error, permanent: failure.permanent }, "otp delivery failed");
      return { kind: "ack" };
    }
    await deps.db.query("UPDATE deliveries SET last_error = $2, locked_until = NULL, updated_at = now() WHERE id = $1", [
      claimed.id,
      error,
    ]);
    const delayMs = deps.backoffMs[Math.min(claimed.attempts - 1, deps.backoffMs.length - 1)] ?? 1_000;
    log.info({ ...where, attempts: claimed.attempts, error, delayMs }, "otp delivery attempt failed; will retry");
    return { kind: "retry", delayMs };
  }

  // The message is out: recording it must not be given up lightly (a lost record = a resend later).
  await withRetries(() => finish(deps, job, claimed, destination, { status: "sent", providerMessageId }), 4, 250);
  log.info({ ...where, attempts: claimed.attempts, deliveryId: claimed.id }, "otp delivered");
  return { kind: "ack" };
}

interface ClaimItem {
  id: string;
  eventId: string;
  requestId: string;
  organizationId: string | null;
  mode: string | null;
  channel: string;
  destination: string;
  leaseMs: number;
}

interface OutcomeItem {
  deliveryId: string;
  status: "sent" | "failed";
  providerMessageId: string | null;
  lastError: string | null;
  outboxId: string;
  outboxType: string;
  payload: string;
}

/**
 * The delivery path's writes, each a group commit (see group-commit.ts): the claims of the jobs
 * in hand go in one statement, and so do their outcomes, so a batch of N jobs costs about two
 * round trips instead of 2N (and their acks leave NATS together). One per pool, shared by every
 * call of deliverOtp with it.
 */
interface DeliveryWrites {
  claims: GroupCommit<ClaimItem, ClaimedRow | null>;
  outcomes: GroupCommit<OutcomeItem, boolean>;
}
const writesByPool = new WeakMap<object, DeliveryWrites>();

function writesFor(db: DeliverOtpDeps["db"]): DeliveryWrites {
  let w = writesByPool.get(db);
  if (w) return w;
  w = {
    claims: new GroupCommit(async (items) => {
      // One event twice in one statement is an error in Postgres ("cannot affect row a second
      // time"): the second copy is not claimed here, exactly as if another instance held it.
      const first = new Map<string, ClaimItem>();
      for (const i of items) if (!first.has(i.eventId)) first.set(i.eventId, i);
      const unique = [...first.values()];
      const now = new Date();
      const col = <K extends keyof ClaimItem>(k: K) => unique.map((i) => i[k]);
      // The first delivery of an event creates its record already leased (attempt 1); a later one
      // takes the lease only while the record is `pending` and nobody holds it. Postgres re-checks
      // the DO UPDATE's WHERE under the row lock (and a concurrent INSERT of the same event waits
      // for the first to commit), so of two instances racing for one event exactly one gets the
      // row back.
      const { rows } = await db.query<ClaimedRow & { event_id: string }>(
        `INSERT INTO deliveries (id, event_id, request_id, organization_id, mode, channel, destination, attempts, locked_until, updated_at)
         SELECT j.id, j.event_id, j.request_id, j.organization_id, j.mode, j.channel, j.destination, 1,
                $9::timestamptz + make_interval(secs => j.lease_ms / 1000.0), $9::timestamptz
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
             AS j(id, event_id, request_id, organization_id, mode, channel, destination, lease_ms)
         ON CONFLICT (event_id) DO UPDATE
           SET attempts = deliveries.attempts + 1, locked_until = EXCLUDED.locked_until, updated_at = EXCLUDED.updated_at
           WHERE deliveries.status = 'pending' AND (deliveries.locked_until IS NULL OR deliveries.locked_until < EXCLUDED.updated_at)
         RETURNING id, event_id, attempts`,
        [
          col("id"),
          col("eventId"),
          col("requestId"),
          col("organizationId"),
          col("mode"),
          col("channel"),
          col("destination"),
          col("leaseMs"),
          now,
        ],
      );
      const byEvent = new Map(rows.map((r) => [r.event_id, { id: r.id, attempts: r.attempts }]));
      return items.map((i) => (first.get(i.eventId) === i ? (byEvent.get(i.eventId) ?? null) : null));
    }),
    outcomes: new GroupCommit(async (items) => {
      const col = <K extends keyof OutcomeItem>(k: K) => items.map((i) => i[k]);
      // Each record's outcome and its event in one statement (atomic like a transaction): an
      // outbox row only for a record that was updated.
      const { rows } = await db.query<{ id: string }>(
        `WITH o AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS o(delivery_id, status, provider_message_id, last_error, outbox_id, type, payload)
         ), record AS (
           UPDATE deliveries d
              SET status = o.status, provider_message_id = o.provider_message_id, last_error = o.last_error,
                  locked_until = NULL, updated_at = now()
             FROM o
            WHERE d.id = o.delivery_id
           RETURNING d.id
         )
         INSERT INTO outbox_events (id, type, payload)
         SELECT o.outbox_id, o.type, o.payload::jsonb FROM o JOIN record ON record.id = o.delivery_id
         RETURNING id`,
        [col("deliveryId"), col("status"), col("providerMessageId"), col("lastError"), col("outboxId"), col("outboxType"), col("payload")],
      );
      const written = new Set(rows.map((r) => r.id));
      return items.map((i) => written.has(i.outboxId));
    }),
  };
  writesByPool.set(db, w);
  return w;
}

function claim(deps: DeliverOtpDeps, job: DeliveryJob, destination: string): Promise<ClaimedRow | null> {
  const { envelope, data } = job;
  return writesFor(deps.db).claims.add({
    id: `${IdPrefix.delivery}${ulid()}`,
    eventId: envelope.id,
    requestId: data.requestId,
    organizationId: envelope.organizationId,
    mode: envelope.mode,
    channel: data.channel,
    destination,
    leaseMs: deps.leaseMs,
  });
}

type Outcome = { status: "sent"; providerMessageId: string | null } | { status: "failed"; error: string };

async function finish(deps: DeliverOtpDeps, job: DeliveryJob, row: ClaimedRow, destination: string, outcome: Outcome): Promise<void> {
  const { envelope, data } = job;
  const eventData: OtpDeliveryOutcomeData = {
    requestId: data.requestId,
    deliveryId: row.id,
    channel: data.channel,
    to: destination,
    attempts: row.attempts,
    providerMessageId: outcome.status === "sent" ? outcome.providerMessageId : null,
    ...(outcome.status === "failed" ? { error: outcome.error } : {}),
  };
  const event = newEvent(
    outcome.status === "sent" ? EventType.otpDelivered : EventType.otpDeliveryFailed,
    { organizationId: envelope.organizationId, mode: envelope.mode },
    eventData,
  );
  const outbox = outboxRow(event);
  const written = await writesFor(deps.db).outcomes.add({
    deliveryId: row.id,
    status: outcome.status,
    providerMessageId: outcome.status === "sent" ? outcome.providerMessageId : null,
    lastError: outcome.status === "failed" ? outcome.error : null,
    outboxId: outbox.id,
    outboxType: outbox.type,
    payload: JSON.stringify(outbox.payload),
  });
  if (!written) throw new Error(`delivery record ${row.id} is gone; outcome not recorded`);
  deps.onOutboxWrite();
  deps.metrics?.delivered.inc({ channel: data.channel, outcome: outcome.status });
}

function scrub(text: string, code: string): string {
  return text.split(code).join("[code]").slice(0, 500);
}

async function withRetries<T>(fn: () => Promise<T>, tries: number, delayMs: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, delayMs * i));
    }
  }
}
