import { randomBytes } from "node:crypto";
import { DependencyUnavailableError, type Logger, type Redis } from "@authplane/service-kit";
import type { PrismaClient } from "../generated/prisma/client.js";

/** Redis key marking a session revoked until its last access token expires. */
export function revokedSessionKey(sessionId: string): string {
  return `revoked:sess:${sessionId}`;
}

/**
 * Present while the Redis revoked-session set is complete: written (no TTL) after a rebuild from
 * Postgres. A Redis restart without persistence, a FLUSH, or a failover to an empty replica removes
 * it with the rest, and the next check rebuilds the set before answering.
 */
export const REVOKED_SET_READY_KEY = "revoked:ready";
/** Nonce of the rebuild in progress; a flush during the rebuild erases it and the rebuild starts over. */
const REVOKED_SET_REBUILDING_KEY = "revoked:rebuilding";

/** Seconds past the last access token's exp that the revoked marker is kept (clock skew, signing delay). */
const REVOKED_MARKER_SLACK_SECONDS = 60;

/** Sessions written to Redis per pipeline during a rebuild. */
const REBUILD_BATCH = 1_000;

/** Sets the ready marker only if our rebuild's nonce survived (no flush in between). */
const COMMIT_REBUILD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

/** TTL (seconds) of a revoked marker for a session whose last access token expires at `accessExpiresAt`. */
export function revokedMarkerTtl(accessExpiresAt: Date, now = Date.now()): number {
  return Math.max(1, Math.ceil((accessExpiresAt.getTime() - now) / 1000) + REVOKED_MARKER_SLACK_SECONDS);
}

/**
 * The revoked-session set. Postgres (`sessions.revoked_at`) is the record; Redis holds a copy for
 * the hot path (`/check`, `/introspect`: one MGET, no Postgres). The copy is trusted only while
 * its ready marker exists; when Redis comes back without it, the set is rebuilt from Postgres
 * (every revoked session whose tokens may still be alive) before any check is answered. While
 * Redis is unreachable, checks fail at once with 503 (fail closed, never "not revoked").
 */
export class Revocations {
  private rebuilding: Promise<void> | null = null;

  constructor(private readonly deps: { redis: Redis; prisma: PrismaClient; logger: Logger }) {}

  /**
   * Is the session revoked? Throws DependencyUnavailableError (503) when Redis or Postgres cannot
   * answer. `prefetched`: the markers the request's first Redis round trip already read for this
   * session (RequestGate), used instead of asking again while they say the set is complete.
   */
  async isRevoked(
    sessionId: string,
    prefetched?: { sessionId: string; ready: string | null; revoked: string | null } | null,
  ): Promise<boolean> {
    if (prefetched && prefetched.sessionId === sessionId && prefetched.ready !== null) return prefetched.revoked !== null;
    const redis = this.deps.redis;
    // A disconnected client would queue the command and time out: answer 503 now instead.
    if (redis.status !== "ready") throw new DependencyUnavailableError("redis");
    const [ready, revoked] = await redis.mget(REVOKED_SET_READY_KEY, revokedSessionKey(sessionId));
    if (ready !== null) return revoked !== null;
    await this.rebuild();
    return (await redis.exists(revokedSessionKey(sessionId))) === 1;
  }

  /** Rebuilds the set if its ready marker is missing (start-up). */
  async ensure(): Promise<void> {
    if ((await this.deps.redis.exists(REVOKED_SET_READY_KEY)) === 0) await this.rebuild();
  }

  /** One rebuild at a time per instance; concurrent checks wait for it. */
  rebuild(): Promise<void> {
    this.rebuilding ??= this.rebuildNow().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private async rebuildNow(): Promise<void> {
    const { redis, prisma, logger } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const nonce = randomBytes(12).toString("base64url");
      await redis.set(REVOKED_SET_REBUILDING_KEY, nonce, "EX", 300);
      const now = Date.now();
      const horizon = new Date(now - REVOKED_MARKER_SLACK_SECONDS * 1000);
      let count = 0;
      let cursor: string | undefined;
      for (;;) {
        const rows = await prisma.session.findMany({
          where: { revokedAt: { not: null }, accessExpiresAt: { gt: horizon } },
          select: { id: true, accessExpiresAt: true },
          orderBy: { id: "asc" },
          take: REBUILD_BATCH,
          ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
        });
        if (rows.length === 0) break;
        const pipe = redis.pipeline();
        for (const r of rows) pipe.set(revokedSessionKey(r.id), "1", "EX", revokedMarkerTtl(r.accessExpiresAt, now));
        const replies = await pipe.exec();
        if (!replies || replies.some(([err]) => err)) throw new DependencyUnavailableError("redis");
        count += rows.length;
        cursor = rows[rows.length - 1]?.id;
        if (rows.length < REBUILD_BATCH) break;
      }
      const committed = await redis.eval(COMMIT_REBUILD, 2, REVOKED_SET_REBUILDING_KEY, REVOKED_SET_READY_KEY, nonce, String(now));
      if (committed === 1) {
        logger.warn({ revokedSessions: count }, "revoked-session set rebuilt from Postgres (its Redis ready marker was missing)");
        return;
      }
      // Another rebuild (another instance) replaced our nonce, or Redis was flushed meanwhile.
      if ((await redis.exists(REVOKED_SET_READY_KEY)) === 1) return;
      if (attempt >= 3) throw new DependencyUnavailableError("redis");
    }
  }
}
