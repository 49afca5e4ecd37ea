import type { EventEnvelope, Subjects } from "@authplane/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import { createInbox, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "./logger.js";
import type { PgPool } from "./postgres.js";
import { qi } from "./postgres.js";
import { contextFromTraceFields, detached, endSpan, injectNatsHeaders, startMessagingSpan } from "./tracing.js";

/**
 * The outbox table every service with events has in its own schema (put this in a migration):
 *
 *   CREATE TABLE "outbox_events" (
 *     "id" TEXT PRIMARY KEY, "type" TEXT NOT NULL, "payload" JSONB NOT NULL,
 *     "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "published_at" TIMESTAMPTZ);
 *   CREATE INDEX "outbox_events_unpublished" ON "outbox_events" ("created_at") WHERE "published_at" IS NULL;
 *
 * Write a row with `outboxRow(event)` in the same transaction as the change it announces.
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE "outbox_events" (
  "id" TEXT PRIMARY KEY,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "published_at" TIMESTAMPTZ
);
CREATE INDEX "outbox_events_unpublished" ON "outbox_events" ("created_at") WHERE "published_at" IS NULL;`;

/** The Prisma `create` data for an outbox row (model `OutboxEvent` mapped to `outbox_events`). */
export function outboxRow(event: EventEnvelope): { id: string; type: string; payload: EventEnvelope } {
  return { id: event.id, type: event.type, payload: event };
}

export interface OutboxRelayOptions {
  pool: PgPool;
  schema: string;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  /** Poll for rows nobody kicked for (other instances, crashes), default 500 ms. */
  pollIntervalMs?: number;
  /** Rows per batch (one SELECT … FOR UPDATE, one UPDATE, one commit), default 100. */
  batchSize?: number;
  /**
   * Published rows are deleted once they are this old (hours; default 24; 0 deletes them on the
   * next cleanup). Unpublished rows are never deleted.
   */
  retentionHours?: number;
  /** How often the relay deletes expired published rows (ms, default 60 s; 0 disables cleanup). */
  cleanupIntervalMs?: number;
  /**
   * Kicks arriving while a drain runs are coalesced into ONE follow-up drain, started at least
   * this long after the previous one started (ms, default 0: at once). A debounce makes batches
   * bigger under load, but 10 ms measured no gain on the guest bench, so it is off by default.
   */
  minDrainIntervalMs?: number;
  /** Ack timeout for one batch of JetStream publishes (ms, default 3 s). */
  publishTimeoutMs?: number;
}

interface OutboxDbRow {
  id: string;
  type: string;
  /** The envelope as JSON text (sent as is: no parse/stringify round trip). */
  payload: string;
  /** The envelope's trace context and request id (read by the SELECT, for the message headers). */
  traceparent: string | null;
  tracestate: string | null;
  req_id: string | null;
}

interface PubAck {
  stream?: string;
  error?: { code?: number; description?: string };
}

/**
 * Relays committed outbox rows to JetStream, in order, at least once (the stream de-duplicates on
 * the event id, so a retry after a crash between publish and mark does not duplicate). Several
 * instances may relay at once: `FOR UPDATE SKIP LOCKED` splits the rows between them.
 *
 * A batch is published as plain NATS publishes with the `Nats-Msg-Id` header and a reply subject
 * under one inbox, and ONE subscription collects the JetStream acks (one timer per batch instead
 * of a request, a timer and a stack-trace Error per event). Published rows are marked, and deleted
 * after `retentionHours` by a periodic cleanup on the relay's poll.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private delayTimer: NodeJS.Timeout | null = null;
  private lastDrainStart = 0;
  private lastCleanup = 0;
  private readonly table: string;
  private readonly nc: NatsConnection | null;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.table = `${qi(opts.schema)}."outbox_events"`;
    // The JetStream client's own connection (a public field of nats.js' client implementation).
    const nc = (opts.js as unknown as { nc?: NatsConnection }).nc;
    this.nc = nc && typeof nc.subscribe === "function" && typeof nc.publish === "function" ? nc : null;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Relay now (call after committing a transaction that wrote outbox rows). */
  kick(): void {
    if (this.stopped) return;
    if (this.running || this.delayTimer) {
      this.again = true;
      return;
    }
    const wait = this.lastDrainStart + (this.opts.minDrainIntervalMs ?? 0) - Date.now();
    if (wait > 0) {
      this.delayTimer = setTimeout(() => {
        this.delayTimer = null;
        this.startDrain();
      }, wait);
      return;
    }
    this.startDrain();
  }

  private startDrain(): void {
    if (this.stopped) return;
    this.lastDrainStart = Date.now();
    // A kick comes from a request handler: the drain is not part of that request (nor its trace).
    this.running = detached(() => this.drain()).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once every row committed before the call has been published (for tests and shutdown). */
  async flush(): Promise<void> {
    if (this.running) await this.running;
    await this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    if (this.running) await this.running.catch(() => {});
  }

  /** Deletes published rows older than the retention; returns how many. Unpublished rows stay. */
  async cleanup(): Promise<number> {
    const hours = this.opts.retentionHours ?? 24;
    let total = 0;
    for (;;) {
      // Bounded deletes: never one huge statement holding locks after a long outage.
      const { rowCount } = await this.opts.pool.query(
        `DELETE FROM ${this.table} WHERE id IN (SELECT id FROM ${this.table}
           WHERE published_at IS NOT NULL AND published_at <= now() - make_interval(secs => $1::double precision) LIMIT 5000)`,
        [hours * 3600],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < 5000) return total;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.kick();
      this.maybeCleanup();
      this.schedule();
    }, this.opts.pollIntervalMs ?? 500);
    this.timer.unref();
  }

  private maybeCleanup(): void {
    const every = this.opts.cleanupIntervalMs ?? 60_000;
    if (every <= 0 || Date.now() - this.lastCleanup < every) return;
    this.lastCleanup = Date.now();
    this.cleanup().catch((err: Error) => this.opts.logger.warn({ err: err.message }, "outbox cleanup failed; will retry"));
  }

  private async drain(): Promise<void> {
    for (;;) {
      const n = await this.relayBatch().catch((err: Error) => {
        this.opts.logger.warn({ err: err.message }, "outbox relay failed; will retry");
        return 0;
      });
      if (n < (this.opts.batchSize ?? 100)) return;
    }
  }

  private async relayBatch(): Promise<number> {
    const client = await this.opts.pool.connect();
    // The connection may break while the batch waits for JetStream acks (no query running): pg
    // then emits 'error' on the checked-out client, which would crash the process unhandled.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<OutboxDbRow>(
        `SELECT id, type, payload::text AS payload, payload->>'traceparent' AS traceparent, payload->>'tracestate' AS tracestate,
                payload->>'reqId' AS req_id FROM ${this.table} WHERE published_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.opts.batchSize ?? 100],
      );
      if (rows.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      // Publish in order, wait for every ack before marking the rows.
      await this.publish(rows);
      await client.query(`UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1)`, [rows.map((r) => r.id)]);
      await client.query("COMMIT");
      return rows.length;
    } catch (err) {
      if (!broken) await client.query("ROLLBACK").catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.off("error", onError);
      // A broken connection is discarded, not returned to the pool.
      client.release(broken);
    }
  }

  /**
   * Publishes the batch, each row in a producer span continuing the trace its envelope recorded
   * when the row was written (the request that caused it), with that context and the request id
   * in the message headers for the consumers.
   */
  private async publish(rows: OutboxDbRow[]): Promise<void> {
    const spans = rows.map((r) => {
      const subject = this.opts.subjects.event(r.type);
      const { span, ctx } = startMessagingSpan("publish", subject, {
        parent: contextFromTraceFields(r),
        attributes: { "messaging.message.id": r.id, "outbox.relay": true },
      });
      const h = injectNatsHeaders(headers(), ctx, r.req_id ?? undefined);
      h.set("Nats-Msg-Id", r.id);
      return { span, headers: h };
    });
    try {
      await this.publishBatch(
        rows,
        spans.map((s) => s.headers),
      );
      for (const s of spans) endSpan(s.span);
    } catch (err) {
      for (const s of spans) endSpan(s.span, err as Error);
      throw err;
    }
  }

  private async publishBatch(rows: OutboxDbRow[], rowHeaders: MsgHdrs[]): Promise<void> {
    const timeout = this.opts.publishTimeoutMs ?? 3_000;
    const nc = this.nc;
    if (!nc) {
      await Promise.all(
        rows.map((r, i) =>
          this.opts.js.publish(this.opts.subjects.event(r.type), r.payload, { msgID: r.id, timeout, headers: rowHeaders[i] }),
        ),
      );
      return;
    }
    // The connection's own inbox prefix: NATS lets each service subscribe to its own inbox only.
    const inbox = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    await new Promise<void>((resolve, reject) => {
      let pending = rows.length;
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sub.unsubscribe();
        if (err) reject(err);
        else resolve();
      };
      const sub = nc.subscribe(`${inbox}.*`, {
        callback: (err, msg) => {
          if (err) return finish(err);
          // An empty reply is a status message (503 no responders: the stream is missing).
          if (msg.data.length === 0) return finish(new Error(`JetStream publish failed: no ack (${msg.headers?.code ?? "no data"})`));
          let ack: PubAck;
          try {
            ack = msg.json<PubAck>();
          } catch {
            return finish(new Error("JetStream publish failed: invalid ack"));
          }
          if (ack.error || !ack.stream) return finish(new Error(`JetStream publish failed: ${ack.error?.description ?? "invalid ack"}`));
          if (--pending === 0) finish();
        },
      });
      const timer = setTimeout(() => finish(new Error("JetStream publish ack timeout")), timeout);
      try {
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i] as OutboxDbRow;
          nc.publish(this.opts.subjects.event(r.type), r.payload, { reply: `${inbox}.${i}`, headers: rowHeaders[i] });
        }
      } catch (err) {
        finish(err as Error);
      }
    });
  }
}
