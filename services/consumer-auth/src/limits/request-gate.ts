import { createHash } from "node:crypto";
import { IdPrefix, parseApiKeyPrefix } from "@authplane/contracts";
import {
  AppError,
  clientIpGroup,
  currentRequestContext,
  DependencyUnavailableError,
  type RateLimitRule,
  type Redis,
} from "@authplane/service-kit";
import type { Request } from "express";
import type { Env } from "../env.js";
import { LuaScript } from "../otp/lua-script.js";
import { REVOKED_SET_READY_KEY, revokedSessionKey } from "../tokens/revocations.js";

/**
 * The request's first Redis round trip, taking several fixed-window limits in order and reading
 * the revocation markers of the token's session, all in ONE script. Each limit step is exactly
 * rate-limiter-flexible's `RateLimiterRedis.consume` (same key `rl:<name>:<key>`, same Lua: SET NX
 * with the window, INCRBY, PTTL, refused once the count exceeds the points, the point staying
 * spent), so the buckets are the ones `RateLimit`/`KeyBudget` (service-kit) use elsewhere. The
 * first refused step ends the script: later buckets are not touched (a client refused by its own
 * budget spends nothing of the next one, as before). The markers are only read, and only once
 * every limit passed.
 */
const GATE = new LuaScript(`
local n = tonumber(ARGV[1])
for i = 1, n do
  local dur = ARGV[2 * i + 1]
  redis.call('set', KEYS[i], 0, 'EX', dur, 'NX')
  local consumed = redis.call('incrby', KEYS[i], 1)
  local ttl = redis.call('pttl', KEYS[i])
  if ttl == -1 then
    redis.call('expire', KEYS[i], dur)
    ttl = 1000 * dur
  end
  if consumed > tonumber(ARGV[2 * i]) then return {i, ttl} end
end
if #KEYS > n then
  local m = redis.call('mget', KEYS[n + 1], KEYS[n + 2])
  return {0, 0, m[1], m[2]}
end
return {0, 0}`);

/** What the gate read for the token's session (see `Revocations.isRevoked`). */
export interface PrefetchedRevocation {
  sessionId: string;
  /** The revoked set's ready marker (null: Redis lost the set, rebuild before trusting `revoked`). */
  ready: string | null;
  revoked: string | null;
}

interface GateResult {
  /** Hash of the publishable key whose budget the gate took (not to be taken again). */
  keyBudget: string | null;
  revocation: PrefetchedRevocation | null;
}

const results = new WeakMap<Request, GateResult>();

/** True when the gate already took the budget of the publishable key with this hash for `req`. */
export function keyBudgetTakenByGate(req: Request, keyHash: string): boolean {
  return results.get(req)?.keyBudget === keyHash;
}

/** The revocation markers the gate read for `req` (null when it read none). */
export function revocationReadByGate(req: Request): PrefetchedRevocation | null {
  return results.get(req)?.revocation ?? null;
}

/** Hash of a key as the key budgets name it (raw keys never reach Redis). */
export function keyBudgetHash(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 32);
}

/** A publishable key that the key middlewares would take a budget for (else null): the same tests they make. */
function budgetedPublishableKey(header: string | string[] | undefined): string | null {
  if (typeof header !== "string" || !header.startsWith("pk_")) return null;
  const raw = header.trim();
  return raw.length <= 200 && parseApiKeyPrefix(raw)?.kind === "publishable" ? raw : null;
}

/** The `sessionId` claim of an (unverified) bearer token, to read its marker early; null if none can be read. */
function unverifiedSessionId(authorization: string | undefined): string | null {
  if (!authorization || authorization.length > 4200) return null;
  const m = /^Bearer\s+([\w-]+)\.([\w-]+)\.[\w-]+\s*$/i.exec(authorization);
  if (!m?.[2]) return null;
  try {
    const sid = (JSON.parse(Buffer.from(m[2], "base64url").toString("utf8")) as { sessionId?: unknown }).sessionId;
    return typeof sid === "string" && sid.startsWith(IdPrefix.session) && sid.length <= 64 ? sid : null;
  } catch {
    return null;
  }
}

type GateEnv = Pick<
  Env,
  | "RATE_LIMIT_IP_PER_MINUTE"
  | "RATE_LIMIT_GATEWAY_IP_PER_MINUTE"
  | "RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE"
  | "RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE"
  | "RATE_LIMIT_IPV6_PREFIX"
>;

/**
 * The limit rules of the public and gateway endpoints: `buildDeps` builds `rateLimits` from them
 * and the gate writes the same buckets (KeyBudget "pk" keeps "pk:client" and "pk:key").
 */
export function gateRules(env: GateEnv) {
  const minute = 60;
  return {
    ip: { name: "ip", points: env.RATE_LIMIT_IP_PER_MINUTE, durationSeconds: minute },
    gatewayIp: { name: "gateway-ip", points: env.RATE_LIMIT_GATEWAY_IP_PER_MINUTE, durationSeconds: minute },
    keyBudget: {
      name: "pk",
      perClientPoints: env.RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE,
      keyPoints: env.RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE,
      durationSeconds: minute,
    },
  } as const;
}

/**
 * Takes a request's limits in one Redis round trip (instead of one per limit, then one more for
 * the revocation check); the endpoint builder runs them as the endpoints' rate limits
 * (routes/auth.ts `consumerLimits`):
 *
 * - `takePublic(req, keyed)`: the per-IP limit of the public endpoints, plus, when `keyed` (the
 *   endpoints authenticated by the publishable key, whose check takes the key budget right after
 *   the IP limit), the key's budget per (key, client) and key-wide when `X-Publishable-Key` is one
 *   the key check would budget. `consumeKeyBudget` then does not take it again.
 * - `takeCheck(req)`: `/check`'s gateway per-IP limit, the forwarded key's budget, and the revoked-set
 *   markers of the bearer token's session (read before the token is verified: read-only, and used
 *   only once the token verified, for that same session). A request carrying `X-Internal-Token`
 *   gets the IP limit only (its scope checks may refuse it before any key budget, as before).
 *
 * The order and the semantics of every limit are unchanged: IP first (refused: nothing else is
 * taken), then (key, client), then key-wide; 429 `rate_limited` with `Retry-After`, 503 when
 * Redis cannot answer.
 */
export class RequestGate {
  private readonly rules: ReturnType<typeof gateRules>;

  constructor(
    private readonly redis: Redis,
    private readonly env: GateEnv,
  ) {
    this.rules = gateRules(env);
  }

  /** Loads the script into Redis ahead of the first request (best effort: `run` falls back to EVAL). */
  async load(): Promise<void> {
    await GATE.load(this.redis).catch(() => {});
  }

  /** The public endpoints' per-IP limit; `keyed`: also the budget of the request's publishable key (see above). */
  async takePublic(req: Request, keyed: boolean): Promise<void> {
    const pk = keyed ? budgetedPublishableKey(req.headers["x-publishable-key"]) : null;
    await this.run(req, this.rules.ip, pk, null);
  }

  /** /check's gateway per-IP limit, the forwarded key's budget and the token's revocation markers (see above). */
  async takeCheck(req: Request): Promise<void> {
    const internal = req.headers["x-internal-token"] !== undefined;
    const pk = internal ? null : budgetedPublishableKey(req.headers["x-publishable-key"]);
    await this.run(req, this.rules.gatewayIp, pk, unverifiedSessionId(req.headers.authorization));
  }

  private async run(req: Request, ipRule: RateLimitRule, pk: string | null, sessionId: string | null): Promise<void> {
    // As RateLimit (rejectIfRedisNotReady) and Revocations do: a disconnected client would queue.
    if (this.redis.status !== "ready") throw new DependencyUnavailableError("redis");
    const client = clientIpGroup(req, this.env.RATE_LIMIT_IPV6_PREFIX);
    const steps: Array<{ name: string; key: string; points: number; durationSeconds: number }> = [
      { name: ipRule.name, key: `rl:${ipRule.name}:${client}`, points: ipRule.points, durationSeconds: ipRule.durationSeconds },
    ];
    const hash = pk ? keyBudgetHash(pk) : null;
    if (hash) {
      const kb = this.rules.keyBudget;
      const [clientBucket, keyBucket] = [`${kb.name}:client`, `${kb.name}:key`];
      steps.push({
        name: clientBucket,
        key: `rl:${clientBucket}:${hash}|${client}`,
        points: kb.perClientPoints,
        durationSeconds: kb.durationSeconds,
      });
      steps.push({ name: keyBucket, key: `rl:${keyBucket}:${hash}`, points: kb.keyPoints, durationSeconds: kb.durationSeconds });
    }
    const keys = steps.map((s) => s.key);
    if (sessionId) keys.push(REVOKED_SET_READY_KEY, revokedSessionKey(sessionId));
    const args: Array<string | number> = [steps.length];
    for (const s of steps) args.push(s.points, s.durationSeconds);
    let reply: [number, number, (string | null)?, (string | null)?];
    try {
      reply = (await GATE.run(this.redis, keys, args)) as typeof reply;
    } catch (err) {
      throw new DependencyUnavailableError("redis", err);
    }
    const [refusedStep, ttl] = reply;
    if (refusedStep > 0) {
      // Counted by the access log under the refusing limit's name, as RateLimit does.
      const ctx = currentRequestContext();
      if (ctx) ctx.refusedBy = steps[refusedStep - 1]?.name;
      const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
      throw new AppError(429, "rate_limited", "Too many requests. Try again later.", {
        headers: { "Retry-After": String(retryAfter) },
        details: { retryAfter },
      });
    }
    results.set(req, {
      keyBudget: hash,
      revocation: sessionId ? { sessionId, ready: reply[2] ?? null, revoked: reply[3] ?? null } : null,
    });
  }
}
