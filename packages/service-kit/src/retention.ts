import { Counter, type Registry } from "prom-client";
import { z } from "zod";
import type { Logger } from "./logger.js";
import type { PgPool } from "./postgres.js";

/**
 * Environment of the retention pruner, shared by every service that prunes (`BaseEnv.extend({
 * ...RetentionEnvShape, ... })`). Each service adds its own per-table retention periods.
 */
export const RetentionEnvShape = {
  /** Seconds between two pruning rounds (each round waits this ± 20 % jitter); 0 disables pruning. */
  RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(600),
  /** Rows deleted by one statement (one short transaction). */
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** Pause between two batches (ms), so pruning never monopolises Postgres. */
  RETENTION_BATCH_PAUSE_MS: z.coerce.number().int().min(0).default(100),
  /** Batches per task per round at most (a backlog is worked off over several rounds). */
  RETENTION_MAX_BATCHES: z.coerce.number().int().min(1).default(100),
};

export interface PruneTask {
  /** Label of the metric and log line, e.g. `sessions`. */
  name: string;
  /**
   * One DELETE of at most `$1` rows (the batch size), e.g.
   * `DELETE FROM t WHERE id IN (SELECT id FROM t WHERE <past retention> LIMIT $1)`.
   * Extra parameters come from `params()`, evaluated once per batch ($2, $3, ...).
   */
  sql: string;
  params?: () => unknown[];
}

export interface RetentionPrunerOptions {
  pool: PgPool;
  logger: Logger;
  /** Registry of the service's metrics: `retention_pruned_rows_total{table}` is registered on it. */
  registry?: Registry;
  /** Advisory lock name: one pruner at a time per name across instances (e.g. the schema name). */
  lockName: string;
  tasks: PruneTask[];
  intervalMs: number;
  batchSize: number;
  batchPauseMs: number;
  maxBatches: number;
}

/** The pruner's settings as a service's env holds them (`RetentionEnvShape`, plus its schema name). */
export type RetentionEnv = { DATABASE_SCHEMA: string } & { [K in keyof typeof RetentionEnvShape]: number };

/**
 * A service's pruner from its env: the schema name is the advisory lock (one pruner per schema
 * across instances), the RETENTION_* variables set the timer and batches, and the counter goes on
 * the service's metrics registry.
 */
export function retentionPrunerFromEnv(
  deps: { env: RetentionEnv; pool: PgPool; logger: Logger; metrics: { registry: Registry } },
  tasks: PruneTask[],
): RetentionPruner {
  const { env } = deps;
  return new RetentionPruner({
    pool: deps.pool,
    logger: deps.logger,
    registry: deps.metrics.registry,
    lockName: env.DATABASE_SCHEMA,
    tasks,
    intervalMs: env.RETENTION_INTERVAL_SECONDS * 1000,
    batchSize: env.RETENTION_BATCH_SIZE,
    batchPauseMs: env.RETENTION_BATCH_PAUSE_MS,
    maxBatches: env.RETENTION_MAX_BATCHES,
  });
}

/**
 * Deletes rows past their retention in bounded batches, on a timer with jitter.
 *
 * - Each batch is its own short transaction that first takes `pg_try_advisory_xact_lock` on the
 *   lock name: when another instance holds it (it is pruning the same schema right now), this
 *   instance skips the task for this round instead of waiting or failing. So several instances are
 *   safe, and a batch never holds locks longer than one bounded DELETE.
 * - Between batches it pauses `batchPauseMs`; at most `maxBatches` batches per task per round.
 * - Every round that deleted something logs `{pruned: {table: n}}`; the counter
 *   `retention_pruned_rows_total{table}` counts all deleted rows.
 * - A failed round (Postgres down) is logged and retried at the next tick; it never throws.
 */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private readonly counter: Counter<"table"> | null;

  constructor(private readonly opts: RetentionPrunerOptions) {
    const existing = opts.registry?.getSingleMetric("retention_pruned_rows_total") as Counter<"table"> | undefined;
    this.counter =
      existing ??
      (opts.registry
        ? new Counter({
            name: "retention_pruned_rows_total",
            help: "Rows deleted by the retention pruner, by table",
            labelNames: ["table"] as const,
            registers: [opts.registry],
          })
        : null);
  }

  start(): void {
    if (this.opts.intervalMs <= 0 || this.opts.tasks.length === 0) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running.catch(() => {});
  }

  /**
   * One round: every task until a batch deletes fewer than the batch size, or `maxBatches`.
   * Returns the rows deleted per task; a task skipped because another instance holds the lock
   * counts 0.
   */
  async runOnce(): Promise<Record<string, number>> {
    const round = this.round();
    this.running = round;
    try {
      return await round;
    } finally {
      if (this.running === round) this.running = null;
    }
  }

  private async round(): Promise<Record<string, number>> {
    const { pool, tasks, batchSize, batchPauseMs, maxBatches, lockName, logger } = this.opts;
    const pruned: Record<string, number> = {};
    for (const task of tasks) {
      let total = 0;
      for (let batch = 0; batch < maxBatches && !this.stopped; batch++) {
        const deleted = await deleteBatch(pool, lockName, task, batchSize);
        if (deleted === null) break; // another instance is pruning
        total += deleted;
        if (deleted < batchSize) break;
        if (batchPauseMs > 0) await new Promise((r) => setTimeout(r, batchPauseMs));
      }
      pruned[task.name] = total;
      if (total > 0) this.counter?.inc({ table: task.name }, total);
    }
    if (Object.values(pruned).some((n) => n > 0)) logger.info({ pruned }, "retention: pruned rows past their retention");
    return pruned;
  }

  private schedule(): void {
    if (this.stopped) return;
    const jitter = 0.8 + Math.random() * 0.4;
    this.timer = setTimeout(
      () => {
        this.runOnce()
          .catch((err: unknown) =>
            this.opts.logger.warn({ err: errorSummary(err) }, "retention: pruning round failed; retried at the next tick"),
          )
          .finally(() => this.schedule());
      },
      Math.round(this.opts.intervalMs * jitter),
    );
    this.timer.unref();
  }
}

/** One bounded DELETE in its own transaction under the advisory lock; null when the lock is held elsewhere. */
async function deleteBatch(pool: PgPool, lockName: string, task: PruneTask, batchSize: number): Promise<number | null> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const lock = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok", [`retention:${lockName}`]);
    if (!lock.rows[0]?.ok) {
      await client.query("ROLLBACK");
      return null;
    }
    const res = await client.query(task.sql, [batchSize, ...(task.params?.() ?? [])]);
    await client.query("COMMIT");
    return res.rowCount ?? 0;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

function errorSummary(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}
