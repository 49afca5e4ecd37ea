import v8 from "node:v8";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Express, RequestHandler } from "express";
import { closeServiceCore, connectServiceCore, type ServiceCore, type ServiceCoreOptions } from "./core.js";
import { trustProxySetting } from "./env.js";
import { consumerErrorFormat, type ErrorFormat } from "./errors.js";
import { createHttpApp, operationalEndpoints, type ReadinessCheck, withTimeout } from "./http.js";
import { installGracefulShutdown } from "./lifecycle.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { NatsConnection } from "./nats.js";
import { serveMetrics } from "./ops-metrics.js";
import { docsEndpoints, lazyDocument, openApiDocument } from "./openapi.js";
import type { OpenApiDocument, OpenApiInfo } from "./openapi-document.js";
import { type AnyEndpoint, mount } from "./endpoint.js";
import { pgPoolConfig, type PgPool } from "./postgres.js";
import type { Redis } from "./redis.js";

/** A service's generated PrismaClient class (constructed with the pg driver adapter). */
type PrismaClass<P> = new (options: { adapter: PrismaPg }) => P;

interface InfraEnv {
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  DATABASE_POOL_SIZE: number;
}

/** What connectInfra builds: the start-up every service shares, plus its env and Prisma client. */
export interface Infra<E, P, WithRedis extends boolean = true> extends ServiceCore<WithRedis> {
  env: E;
  prisma: P;
}

export interface InfraOptions<P, WithRedis extends boolean = true> extends ServiceCoreOptions<WithRedis> {
  /** The service's generated PrismaClient class. */
  prisma: PrismaClass<P>;
  /**
   * Prisma's connections: a pool the service also uses for raw statements, or a size for a pool of
   * Prisma's own (default DATABASE_POOL_SIZE).
   */
  prismaPool?: PgPool | number;
}

/**
 * Logger, metrics, subjects, the relay pool, Redis, NATS (event stream ensured), the outbox relay
 * (not started) and the service's Prisma client on the pg driver adapter: every deps.ts starts here.
 */
/**
 * Prisma's query compiler is a 4.5 MB WebAssembly module. V8 compiles it with Liftoff and then
 * again with TurboFan, and the optimizing compiler's working memory (freed, but kept by malloc's
 * per-thread arenas) was 40-60 MB of every service's resident memory at rest. Prisma caches each
 * query shape's plan, so the compiler runs only on a shape's first use (no WebAssembly in the
 * profiles of any hot path): baseline code is enough. Set before the module is first compiled
 * (the Prisma warm-up below); a V8 flag read at compile time, so it can be set at run time.
 */
function compileWasmBaselineOnly(): void {
  v8.setFlagsFromString("--liftoff-only");
}

export async function connectInfra<E extends InfraEnv & Parameters<typeof connectServiceCore>[0], P, WithRedis extends boolean = true>(
  env: E,
  opts: InfraOptions<P, WithRedis>,
): Promise<Infra<E, P, WithRedis>> {
  const core = await connectServiceCore<WithRedis>(env, opts);
  compileWasmBaselineOnly();
  const pool = opts.prismaPool ?? env.DATABASE_POOL_SIZE;
  const adapter = new PrismaPg(typeof pool === "number" ? pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, pool) : pool, {
    schema: env.DATABASE_SCHEMA,
  });
  const prisma = new opts.prisma({ adapter });
  // Warm Prisma before the first request: its first query loads the query compiler and opens a
  // connection, which on a busy machine outlasted an interactive transaction's 2 s maxWait and
  // turned a service's very first write into a 503. Best effort: a database that is not there yet
  // is the readiness check's business, not a reason to refuse to start.
  const warm = async () => (prisma as unknown as { $queryRawUnsafe(sql: string): Promise<unknown> }).$queryRawUnsafe("SELECT 1");
  await withTimeout(warm(), 10_000).catch((err: unknown) => core.logger.warn({ err: (err as Error).message }, "prisma warm-up failed"));
  return { ...core, env, prisma };
}

/** Closes what connectInfra opened (after the service stopped its own parts): relay, NATS, Redis, pool, Prisma. */
export async function closeInfra(infra: {
  relay: ServiceCore["relay"];
  nats: Pick<ServiceCore["nats"], "nc">;
  redis: Redis | null;
  pool: PgPool;
  prisma: { $disconnect(): Promise<void> };
}): Promise<void> {
  await closeServiceCore(infra);
  await infra.prisma.$disconnect().catch(() => {});
}

/** /readyz checks of what connectInfra opened: Postgres (the relay pool), Redis when connected, NATS. */
export function infraReadiness(infra: { pool: PgPool; redis?: Redis | null; nc: NatsConnection }): Record<string, ReadinessCheck> {
  return {
    postgres: () => infra.pool.query("SELECT 1"),
    ...(infra.redis ? { redis: () => (infra.redis as Redis).ping() } : {}),
    nats: async () => {
      if (infra.nc.isClosed()) throw new Error("nats connection closed");
      await infra.nc.flush();
    },
  };
}

/** A service's OpenAPI 3.1 document: its endpoints plus the operational and docs routes every app has. */
export function serviceOpenApi(info: OpenApiInfo, endpoints: readonly AnyEndpoint[]): OpenApiDocument {
  return openApiDocument(info, [...endpoints, ...operationalEndpoints, ...docsEndpoints]);
}

export interface ServiceAppOptions {
  deps: { logger: Logger; metrics: Metrics; env: { TRUST_PROXY: string } };
  /** What /readyz checks (infraReadiness): the relay pool, Redis when given, NATS. */
  infra: Parameters<typeof infraReadiness>[0];
  /** Checks that replace or add to those (same names replace). */
  readiness?: Record<string, ReadinessCheck>;
  /** The service's document (built once, on the first request for it). */
  document: () => OpenApiDocument;
  /** Middleware before the body parser (e.g. a CORS echo), see HttpAppOptions. */
  beforeBody?: Array<{ path: string[]; handler: RequestHandler }>;
  /** Mounts the service's own routes (after /healthz, /readyz, /openapi.json, /docs). */
  routes(app: Express): void;
  /** 404 and error bodies (default seed 000's `{"error": code, "message"?}`). */
  errorFormat?: ErrorFormat;
}

/** createHttpApp + the docs routes + the service's routes + 404 and errors in the service's format. */
export function createServiceApp(opts: ServiceAppOptions): Express {
  const { app, finish } = createHttpApp({
    logger: opts.deps.logger,
    metrics: opts.deps.metrics,
    trustProxy: trustProxySetting(opts.deps.env.TRUST_PROXY),
    readiness: { ...infraReadiness(opts.infra), ...opts.readiness },
    ...(opts.beforeBody ? { beforeBody: opts.beforeBody } : {}),
  });
  mount(app, docsEndpoints, { deps: { document: lazyDocument(opts.document) }, authenticators: {}, limits: {} });
  opts.routes(app);
  return finish(opts.errorFormat ?? consumerErrorFormat);
}

type Closer = { name: string; close: () => Promise<unknown> | unknown };

export interface RunServiceOptions {
  service: string;
  env: { PORT: number; HOST: string; METRICS_PORT: number; SHUTDOWN_GRACE_MS: number; SHUTDOWN_DELAY_MS: number };
  deps: { logger: Logger; metrics: Metrics };
  app: Express;
  /** Closed in order after the HTTP server drained; the metrics server is closed last. */
  closers?: Closer[];
  /** Shorthand for one closer named "dependencies" (the service's closeDeps). */
  close?: () => Promise<void>;
  /** Fields added to the "<service> listening" line. */
  listenFields?: Record<string, unknown>;
}

export interface RunningServer {
  server: Server;
  /** http://host:port of the HTTP side (127.0.0.1 when bound to every interface). */
  url: string;
  /** The graceful shutdown (also wired to SIGTERM and SIGINT). */
  shutdown(): Promise<void>;
}

/**
 * Starts the metrics server (METRICS_PORT), installs the graceful shutdown (SIGTERM/SIGINT: drain,
 * then the closers in order, then metrics) and listens on PORT: the end of every main.ts.
 */
export async function runService(opts: RunServiceOptions): Promise<RunningServer> {
  const { env, deps } = opts;
  const { logger } = deps;
  const metricsServer = await serveMetrics({ metrics: deps.metrics, port: env.METRICS_PORT, host: env.HOST, logger });
  const server = createServer(opts.app);
  const shutdown = installGracefulShutdown({
    logger,
    server,
    graceMs: env.SHUTDOWN_GRACE_MS,
    delayMs: env.SHUTDOWN_DELAY_MS,
    closers: [
      ...(opts.closers ?? []),
      ...(opts.close ? [{ name: "dependencies", close: opts.close }] : []),
      { name: "metrics", close: () => metricsServer.close() },
    ],
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.PORT, env.HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, ...opts.listenFields }, `${opts.service} listening`);
  const host = env.HOST === "0.0.0.0" ? "127.0.0.1" : env.HOST;
  return { server, url: `http://${host}:${port}`, shutdown };
}
