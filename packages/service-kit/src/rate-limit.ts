import type { NextFunction, Request, Response } from "express";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { AppError, DependencyUnavailableError } from "./errors.js";
import type { Redis } from "./redis.js";
import { currentRequestContext } from "./request-context.js";

export interface RateLimitRule {
  /** Bucket name (part of the Redis key). */
  name: string;
  /** Requests allowed per window. */
  points: number;
  /** Window in seconds. */
  durationSeconds: number;
}

/**
 * A Redis-backed fixed-window limiter shared by every instance of a service.
 * `consume` throws a 429 AppError with Retry-After, or a 503 when Redis cannot be reached.
 */
export class RateLimit {
  private readonly limiter: RateLimiterRedis;
  constructor(
    redis: Redis,
    readonly rule: RateLimitRule,
    private readonly errorCode = "rate_limited",
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `rl:${rule.name}`,
      points: rule.points,
      duration: rule.durationSeconds,
      rejectIfRedisNotReady: true,
      useRedisPackage: false,
    });
  }

  async consume(key: string, points = 1): Promise<void> {
    try {
      await this.limiter.consume(key, points);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw this.tooMany(res);
      throw new DependencyUnavailableError("redis", res);
    }
  }

  /**
   * Throws the same 429 as `consume` when the key's window is used up, without taking a point
   * (for budgets that only failures spend, such as wrong OTP guesses).
   */
  async assertAvailable(key: string): Promise<void> {
    let res: RateLimiterRes | null;
    try {
      res = await this.limiter.get(key);
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
    if (res && res.consumedPoints >= this.rule.points) throw this.tooMany(res);
  }

  /** The 429 with `Retry-After` (whole seconds, at least 1) until the window frees a point. */
  private tooMany(res: RateLimiterRes): AppError {
    // The access log counts the 429 under this limit's name (rate_limit_refusals_total{limit}).
    const ctx = currentRequestContext();
    if (ctx) ctx.refusedBy = this.rule.name;
    const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return new AppError(429, this.errorCode, "Too many requests. Try again later.", {
      headers: { "Retry-After": String(retryAfter) },
      details: { retryAfter },
    });
  }

  /** Gives back points taken by `consume` (e.g. when the work they paid for failed). */
  async refund(key: string, points = 1): Promise<void> {
    try {
      await this.limiter.reward(key, points);
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
  }

  /** Clears a key's bucket (e.g. after a successful sign-in). */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** Express middleware: limit by a key derived from the request (skips when the key is null). */
export function rateLimitBy(limit: RateLimit, keyOf: (req: Request) => string | null | undefined) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = keyOf(req);
    if (key) await limit.consume(key);
    next();
  };
}

/**
 * The client IP as Express computed it from TRUST_PROXY (X-Forwarded-For only from trusted hops).
 * Per-IP limits key by `clientIpGroup` instead (IPv6 grouped by prefix).
 */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}

export interface KeyBudgetRule {
  /** Bucket name prefix (part of the Redis keys). */
  name: string;
  /** Requests per window one client (IP group) may make with one key. */
  perClientPoints: number;
  /** Requests per window with one key from all clients together (set far above `perClientPoints`). */
  keyPoints: number;
  durationSeconds: number;
}

/**
 * A publishable key's budget: per (key, client IP group), under a key-wide ceiling set far above
 * it, so that a few clients at their own limit get 429 themselves while the key's other clients
 * (the organization's real users) go on. The per-client bucket is taken first: a client refused
 * there spends nothing of the key-wide ceiling. `key` should be a key id or a hash of the key,
 * never the raw key; `client` an `ipGroup`.
 */
export class KeyBudget {
  private readonly perClient: RateLimit;
  private readonly perKey: RateLimit;
  constructor(redis: Redis, rule: KeyBudgetRule, errorCode = "rate_limited") {
    this.perClient = new RateLimit(
      redis,
      { name: `${rule.name}:client`, points: rule.perClientPoints, durationSeconds: rule.durationSeconds },
      errorCode,
    );
    this.perKey = new RateLimit(
      redis,
      { name: `${rule.name}:key`, points: rule.keyPoints, durationSeconds: rule.durationSeconds },
      errorCode,
    );
  }

  async consume(key: string, client: string): Promise<void> {
    await this.perClient.consume(`${key}|${client}`);
    await this.perKey.consume(key);
  }
}
