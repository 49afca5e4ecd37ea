import { createHash } from "node:crypto";
import type { Redis } from "@authplane/service-kit";

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when Redis does not know it yet (after
 * a restart or SCRIPT FLUSH). Keys go through ioredis' keyPrefix like any other command.
 */
export class LuaScript {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Loads the script into Redis' script cache ahead of its first run (saves that run's NOSCRIPT + EVAL). */
  async load(redis: Redis): Promise<void> {
    await redis.script("LOAD", this.source);
  }

  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message ?? "")) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
