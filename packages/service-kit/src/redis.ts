import { Redis } from "ioredis";

export type { Redis };

/**
 * An ioredis client that fails fast: a command waits at most `commandTimeoutMs`, so a Redis outage
 * becomes a 503 rather than a hanging request. `keyPrefix` scopes every key (also Lua KEYS).
 */
export function createRedis(url: string, keyPrefix: string, opts: { commandTimeoutMs?: number; name?: string } = {}): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    connectionName: opts.name,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1_500,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  });
  // Errors surface on commands; an unhandled 'error' event must not crash the process.
  redis.on("error", () => {});
  return redis;
}
