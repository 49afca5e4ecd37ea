import { createHash } from "node:crypto";
import {
  EventType,
  type KeyInvalidReason,
  type KeyVerifyReply,
  parseEventMessage,
  SubjectNames,
  type Subjects,
  type VerifiedKey,
} from "@authplane/contracts";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { LRUCache } from "lru-cache";
import { DependencyUnavailableError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { keyCacheMetrics } from "./ops-metrics.js";
import { type LookupResult, requestLookup } from "./lookup.js";

export interface KeyVerifierOptions {
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  /** Counts cache hits and misses (`key_cache_lookups_total{result}`) on this registry. */
  metrics?: Metrics;
  /** How long a valid answer is reused (bounded by the key's own expiry). */
  positiveTtlMs?: number;
  /**
   * How long an invalid answer (unknown, revoked, expired) is reused: a flood of random well-formed
   * keys costs admin-key one lookup per distinct key per window, not one per request.
   */
  negativeTtlMs?: number;
  requestTimeoutMs?: number;
  /** Valid keys kept (least recently used evicted first). */
  maxEntries?: number;
  /** Invalid answers kept (separate, so that a flood of unknown keys never evicts a valid one). */
  maxNegativeEntries?: number;
}

type Entry = { reply: KeyVerifyReply; until: number };

export const KEY_CACHE_DEFAULTS = {
  positiveTtlMs: 60_000,
  negativeTtlMs: 30_000,
  maxEntries: 50_000,
  maxNegativeEntries: 100_000,
} as const;

/** A key check's outcome: the verified key, or why it does not authenticate. */
export type KeyCheck = { ok: true; key: VerifiedKey } | { ok: false; reason: KeyInvalidReason };

/**
 * Asks admin-key (`keys.v1.verify`) whether a pk_/sk_ key is valid, caching answers so the
 * key-check hot path has no network round trip. Entries are dropped when `keys.v1.rotated`,
 * `keys.v1.revoked` or `organizations.v1.settings_updated` is published (JetStream publishes are
 * also delivered to plain subscribers, so every instance sees each one), and the whole cache is
 * dropped after a NATS reconnect, when an event may have been missed. Valid keys live in an LRU
 * cache (a full cache evicts the least recently used key, so hot keys stay); invalid answers in a
 * separate bounded negative cache (`negativeTtlMs`, default 30 s).
 */
export class KeyVerifier {
  /** Valid keys, by SHA-256 of the key; least recently used evicted when full. */
  private readonly cache: LRUCache<string, Entry>;
  /** Invalid answers, by SHA-256 of the key (bounded; oldest evicted first). */
  private readonly negative: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<KeyVerifyReply>>();
  private subs: Subscription[] = [];
  private readonly positiveTtl: number;
  private readonly negativeTtl: number;

  constructor(private readonly opts: KeyVerifierOptions) {
    this.positiveTtl = opts.positiveTtlMs ?? KEY_CACHE_DEFAULTS.positiveTtlMs;
    this.negativeTtl = opts.negativeTtlMs ?? KEY_CACHE_DEFAULTS.negativeTtlMs;
    this.cache = new LRUCache({ max: opts.maxEntries ?? KEY_CACHE_DEFAULTS.maxEntries });
    this.negative = new LRUCache({ max: opts.maxNegativeEntries ?? KEY_CACHE_DEFAULTS.maxNegativeEntries });
  }

  private clearAll(): void {
    this.cache.clear();
    this.negative.clear();
  }

  start(): void {
    const { nc, subjects } = this.opts;
    // Parse with the event catalog, then dispatch. A message that does not parse may have been
    // about any key: drop the whole cache (the safe side) and log why, never the message.
    const onEvent = (err: Error | null, msg: Msg) => {
      if (err) return;
      const parsed = parseEventMessage(msg.data);
      if (!parsed.success) {
        this.opts.logger.warn({ subject: msg.subject, reason: parsed.error }, "invalid event: key cache dropped");
        this.clearAll();
        return;
      }
      const ev = parsed.event;
      if (ev.type === EventType.keyRotated || ev.type === EventType.keyRevoked) this.dropWhere((r) => r.keyId === ev.data.keyId);
      else if (ev.type === EventType.organizationSettingsUpdated) this.dropWhere((r) => r.organizationId === ev.data.organizationId);
    };
    this.subs = [
      nc.subscribe(subjects.event(EventType.keyRotated), { callback: onEvent }),
      nc.subscribe(subjects.event(EventType.keyRevoked), { callback: onEvent }),
      nc.subscribe(subjects.event(EventType.organizationSettingsUpdated), { callback: onEvent }),
    ];
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "reconnect") this.clearAll();
      }
    })().catch(() => {});
  }

  /** Resolves when the invalidation subscriptions are registered with the server. */
  async ready(): Promise<void> {
    await this.opts.nc.flush();
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.clearAll();
  }

  /**
   * The verified key, or null when the key is unknown, revoked or expired.
   * Throws DependencyUnavailableError when admin-key cannot be asked (NATS down, no responder).
   */
  async verify(key: string): Promise<VerifiedKey | null> {
    const checked = await this.check(key);
    return checked.ok ? checked.key : null;
  }

  /**
   * Like `verify`, with the reason a key does not authenticate (unknown, expired after a rotation,
   * revoked), for APIs whose clients tell them apart. A responder that gives no reason counts as
   * `not_found`. Throws DependencyUnavailableError like `verify`.
   */
  async check(key: string): Promise<KeyCheck> {
    // The cache is keyed by a hash so raw keys are not kept in memory longer than needed.
    const id = createHash("sha256").update(key).digest("base64url");
    const now = Date.now();
    const hit = this.cache.get(id) ?? this.negative.get(id);
    const fresh = hit !== undefined && hit.until > now;
    if (this.opts.metrics) keyCacheMetrics(this.opts.metrics.registry).inc({ result: fresh ? "hit" : "miss" });
    if (hit && fresh) return hit.reply.valid ? { ok: true, key: hit.reply } : { ok: false, reason: hit.reply.reason ?? "not_found" };
    let p = this.inflight.get(id);
    if (!p) {
      p = this.ask(key).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    const reply = await p;
    let until = now + (reply.valid ? this.positiveTtl : this.negativeTtl);
    if (reply.valid && reply.expiresAt) until = Math.min(until, Date.parse(reply.expiresAt));
    if (reply.valid) this.cache.set(id, { reply, until });
    else this.negative.set(id, { reply, until });
    if (!reply.valid) return { ok: false, reason: reply.reason ?? "not_found" };
    if (reply.expiresAt && Date.parse(reply.expiresAt) <= now) return { ok: false, reason: "expired" };
    return { ok: true, key: reply };
  }

  private async ask(key: string): Promise<KeyVerifyReply> {
    const { nc, subjects, logger } = this.opts;
    let result: LookupResult<typeof SubjectNames.keysVerify>;
    try {
      result = await requestLookup(nc, subjects, SubjectNames.keysVerify, { key }, this.opts.requestTimeoutMs ?? 2_000);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "keys.v1.verify failed");
      throw new DependencyUnavailableError("nats", err);
    }
    if (!result.ok) {
      // Never the request or the reply: the request carries the key.
      logger.warn({ reason: result.reason }, "keys.v1.verify failed");
      throw new DependencyUnavailableError("nats");
    }
    return result.reply;
  }

  private dropWhere(pred: (r: VerifiedKey) => boolean): void {
    const drop: string[] = [];
    for (const [id, e] of this.cache.entries()) if (e.reply.valid && pred(e.reply)) drop.push(id);
    for (const id of drop) this.cache.delete(id);
  }
}
