import {
  closeInfra,
  connectInfra,
  type Infra,
  KeyVerifier,
  keyCacheMetrics,
  type LoggerOptions,
  passkeyCounterAnomalyMetric,
} from "@authplane/service-kit";
import { ChallengeStore } from "./challenges.js";
import type { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { OneTimeTokens } from "./one-time-tokens.js";
import { UsernameHasher } from "./usernames.js";

/**
 * Everything createApp and the use cases need (one bag: use cases take `(deps, input)`). Tests
 * build it with `buildDeps` (or `startWebauthnForTest`). The kit's `Infra` part: logger, metrics,
 * prisma, the relay/readiness `pool`, redis, nats, subjects, the outbox `relay`.
 */
export interface AppDeps extends Infra<Env, PrismaClient> {
  keys: Pick<KeyVerifier, "check">;
  /** WebAuthn challenges in Redis. */
  challenges: ChallengeStore;
  /** rtn_/atn_ one-time tokens (and their tombstones) in Redis. */
  tokens: OneTimeTokens;
  usernames: UsernameHasher;
}

export interface BuildDepsOptions {
  /** Log destination (tests capture lines to assert nothing secret is logged). */
  logDestination?: LoggerOptions["destination"];
}

/** Connects Postgres, Redis and NATS and starts the key verifier and outbox relay. */
export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  const infra = await connectInfra(env, {
    service: "webauthn-credential",
    logDestination: opts.logDestination,
    relayPoolSize: Math.max(2, Math.ceil(env.DATABASE_POOL_SIZE / 4)),
    prisma: PrismaClient,
  });
  const { logger, metrics, subjects, redis, nats } = infra;
  // Domain metrics on /metrics from the start (at 0).
  passkeyCounterAnomalyMetric(metrics.registry);
  keyCacheMetrics(metrics.registry);
  const keys = new KeyVerifier({ nc: nats.nc, subjects, logger, metrics });
  keys.start();
  await keys.ready();
  infra.relay.start();
  return {
    ...infra,
    keys,
    challenges: new ChallengeStore(redis, env.CHALLENGE_TTL_SECONDS),
    tokens: new OneTimeTokens(redis, env.TOKEN_TTL_SECONDS, env.TOKEN_TOMBSTONE_SECONDS),
    usernames: new UsernameHasher(env.USERNAME_HASH_SECRET),
  };
}

/** Closes what buildDeps opened, in order. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  if (deps.keys instanceof KeyVerifier) deps.keys.stop();
  await closeInfra(deps);
}
