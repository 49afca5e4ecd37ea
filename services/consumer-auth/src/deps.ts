import {
  closeInfra,
  connectInfra,
  createPgPool,
  type Infra,
  type JetStreamClient,
  type JetStreamManager,
  KeyBudget,
  KeyVerifier,
  keyCacheMetrics,
  type Logger,
  type NatsConnection,
  otpMetrics,
  type PgPool,
  RateLimit,
  refreshReuseMetric,
  type RetentionPruner,
} from "@authplane/service-kit";
import type { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { gateRules, RequestGate } from "./limits/request-gate.js";
import { createOtpServices, type OtpServices } from "./otp/otp-services.js";
import { createConsumerAuthPruner } from "./retention.js";
import { Revocations } from "./tokens/revocations.js";
import { signingKeysChangedSubject } from "./tokens/signing-key-ring.js";
import { TokenService } from "./tokens/token-service.js";

/**
 * Everything routes and use cases use. Built by `buildDeps` (main.ts, testing.ts). The kit's
 * `Infra` part: logger, metrics, prisma, the relay/readiness `pool`, redis, subjects, the outbox
 * `relay` (NATS as `nc`/`js`/`jsm`).
 */
export interface AppDeps extends Omit<Infra<Env, PrismaClient>, "nats"> {
  /**
   * The pg pool under `prisma` (DATABASE_POOL_SIZE connections, search_path = the service schema),
   * for the few hot statements run as named prepared statements (issueSession).
   */
  db: PgPool;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  keyVerifier: KeyVerifier;
  /** Signs/verifies access tokens; owns the signing keys and the JWKS. */
  tokens: TokenService;
  /** The revoked-session set (Redis copy of Postgres' record, rebuilt when Redis lost it). */
  revocations: Revocations;
  /** OTP codes, their limits and delivery jobs. */
  otp: OtpServices;
  /** The request's limits (and /check's revocation read) in one Redis round trip. */
  requestGate: RequestGate;
  /** Deletes dead sessions, expired refresh tokens and abandoned guests (src/retention.ts). */
  pruner: RetentionPruner;
  rateLimits: {
    /** Per client IP group, every public endpoint. */
    ip: RateLimit;
    /** Per client IP group on the gateway endpoints (/introspect, /check). */
    gatewayIp: RateLimit;
    /** Per secret key (hash). */
    key: RateLimit;
    /** Per (publishable key hash, client IP group), under a per-key ceiling. */
    publishableKey: KeyBudget;
  };
}

export interface BuildDepsOptions {
  logger?: Logger;
}

export async function buildDeps(env: Env, opts: BuildDepsOptions = {}): Promise<AppDeps> {
  // One pool for Prisma and the hot-path raw statements (issueSession's single-statement insert,
  // which uses unqualified table names: the pool sets search_path to the service schema).
  const db = createPgPool(env.DATABASE_URL, env.DATABASE_SCHEMA, env.DATABASE_POOL_SIZE);
  const { nats, ...infra } = await connectInfra(env, {
    service: "consumer-auth",
    logger: opts.logger,
    prisma: PrismaClient,
    prismaPool: db,
  }).catch(async (err: unknown) => {
    await db.end().catch(() => {});
    throw err;
  });
  const { logger, metrics, subjects, pool, redis, relay, prisma } = infra;
  const { nc, js, jsm } = nats;
  // Commands issued in the same event-loop tick (the revocation EXISTS and rate-limit steps of
  // concurrent requests) go out in one write: far fewer syscalls under load, same semantics.
  redis.options.enableAutoPipelining = true;
  // Domain metrics on /metrics from the start (at 0): OTP requests, refresh-token reuse, key cache.
  otpMetrics(metrics.registry);
  refreshReuseMetric(metrics.registry);
  keyCacheMetrics(metrics.registry);
  const keyVerifier = new KeyVerifier({ nc, subjects, logger, metrics });
  keyVerifier.start();
  await keyVerifier.ready();
  relay.start();
  const tokens = new TokenService({ prisma, env, logger, nats: { nc, subject: signingKeysChangedSubject(env.NATS_SUBJECT_PREFIX) } });
  await tokens.init();
  tokens.start();
  const revocations = new Revocations({ redis, prisma, logger });
  // Not fatal: without Redis the service starts and answers 503; the first check rebuilds the set.
  await revocations.ensure().catch((err: Error) => logger.warn({ err: err.message }, "revoked-session set not checked at start-up"));
  const rules = gateRules(env);
  const rateLimits = {
    ip: new RateLimit(redis, rules.ip),
    gatewayIp: new RateLimit(redis, rules.gatewayIp),
    key: new RateLimit(redis, { name: "key", points: env.RATE_LIMIT_KEY_PER_MINUTE, durationSeconds: 60 }),
    publishableKey: new KeyBudget(redis, rules.keyBudget),
  };

  const otp = createOtpServices({ env, redis, js, jsm, subjects, logger, metrics });
  const requestGate = new RequestGate(redis, env);
  await requestGate.load();
  const pruner = createConsumerAuthPruner({ env, pool, logger, metrics });
  pruner.start();
  return { ...infra, db, nc, js, jsm, keyVerifier, tokens, revocations, otp, requestGate, pruner, rateLimits };
}

/** Closes what buildDeps opened, in dependency order. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  deps.tokens.stop();
  deps.keyVerifier.stop();
  await deps.pruner.stop();
  await closeInfra({ ...deps, nats: { nc: deps.nc } });
  await deps.db.end().catch(() => {});
}
