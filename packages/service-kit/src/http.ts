import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import helmet from "helmet";
import { z } from "zod";
import { accessLog, restoreRequestContext } from "./access-log.js";
import { type ApiShape, defineApi, mount, Reply } from "./endpoint.js";
import { refuseHostileInput } from "./hostile-input.js";
import { isDraining } from "./lifecycle.js";
import { type ErrorFormat, AppError, errorMiddleware } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

export type ReadinessCheck = () => Promise<unknown>;

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** Named checks behind /readyz (Postgres, Redis, NATS). Each is bounded by a timeout. */
  readiness: Record<string, ReadinessCheck>;
  /** Express `trust proxy` (see env TRUST_PROXY). */
  trustProxy: boolean | number | string[];
  /** JSON body size limit. */
  bodyLimit?: string;
  /**
   * Middleware run before the body parser and the hostile-input check, e.g. a CORS echo, so that
   * a 400/413 for an unreadable or hostile body is still readable by the page that sent it.
   */
  beforeBody?: Array<{ path: string[]; handler: RequestHandler }>;
}

/**
 * express() + helmet + request ids + access log + metrics + /healthz /readyz (503 once draining).
 * Add routers to `app`, then call `finish(format)` to install the 404 and the error middleware.
 */
export function createHttpApp(opts: HttpAppOptions): { app: Express; finish(format: ErrorFormat): Express } {
  const { logger, metrics } = opts;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", opts.trustProxy);
  app.set("etag", false);
  app.use(helmet());

  // Request id, request context, access log and HTTP metrics (see access-log.ts).
  app.use(accessLog({ logger, metrics }));

  mount(app, operationalEndpoints, { deps: { logger, readiness: opts.readiness }, authenticators: {}, limits: {} });
  // /metrics is not on the public port: see ops-metrics.ts (METRICS_PORT).

  for (const { path, handler } of opts.beforeBody ?? []) app.use(path, handler);
  app.use(express.json({ limit: opts.bodyLimit ?? "64kb", strict: true, type: ["application/json", "application/*+json"] }));
  // NUL, lone surrogates, broken percent-encoding, `__proto__` keys, deep nesting: a 400 before
  // any route runs (see hostile-input.ts).
  app.use(refuseHostileInput());
  // The body parser calls next() from the request stream's events, outside the request context.
  app.use(restoreRequestContext);

  return {
    app,
    finish(format: ErrorFormat) {
      app.use((_req, _res, next) => next(new AppError(404, "not_found", "No such endpoint.")));
      app.use(errorMiddleware(format, logger));
      return app;
    },
  };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, message = `timed out after ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * For responses that carry secrets (tokens, exchange codes, new keys): `Cache-Control: no-store`
 * and `Pragma: no-cache` (RFC 6749 §5.1), so that no browser, proxy or CDN keeps a copy.
 * Use on a router (`router.use(noStore)`) or a route.
 */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
  next();
}

interface OperationalShape extends ApiShape {
  deps: { logger: Logger; readiness: Record<string, ReadinessCheck> };
  callers: Record<never, never>;
  limits: never;
  codes: string;
}

const operationalApi = defineApi<OperationalShape>({
  errorSchema: () => z.object({}).passthrough().describe("An error in the service's error format."),
  auth: {},
  limits: {},
  commonErrors: { 500: ["internal error"] },
  tags: ["Operations"],
});

const ReadinessAnswer = z.object({
  status: z.enum(["ok", "unavailable", "draining"]),
  checks: z.record(z.string(), z.enum(["ok", "unavailable"])),
});

/**
 * `/healthz` and `/readyz`, declared with the builder; `createHttpApp` mounts them on every
 * service, and services list them in their OpenAPI document. (`/metrics` is not on the public
 * port: see ops-metrics.ts.)
 */
export const operationalEndpoints = [
  operationalApi.endpoint({
    method: "get",
    path: "/healthz",
    auth: "none",
    summary: "Liveness: the process answers",
    responses: { 200: z.object({ status: z.literal("ok") }) },
    handler: () => ({ status: "ok" as const }),
  }),
  operationalApi.endpoint({
    method: "get",
    path: "/readyz",
    auth: "none",
    summary: "Readiness: every dependency answers within 1.5 s, and the instance is not draining",
    description:
      "Says which dependency is down, never why (driver messages carry internal hosts, ports and user names); the detail is logged at warn. " +
      "A draining instance (SIGTERM received) answers 503 `draining` whatever its dependencies say.",
    responses: {
      200: ReadinessAnswer,
      503: { description: "A dependency is unavailable, or the instance is draining.", schema: ReadinessAnswer },
    },
    handler: async (deps, { req }) => {
      // A draining instance is taken out of the load balancer at once; it still answers the
      // requests that reach it meanwhile.
      if (isDraining()) return new Reply(503, { status: "draining", checks: {} });
      const checks: Record<string, "ok" | "unavailable"> = {};
      let ok = true;
      await Promise.all(
        Object.entries(deps.readiness).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 1500);
            checks[name] = "ok";
          } catch (err) {
            ok = false;
            checks[name] = "unavailable";
            deps.logger.warn({ reqId: req.id, dependency: name, err: err instanceof Error ? err.message : String(err) }, "not ready");
          }
        }),
      );
      const answer = { status: ok ? ("ok" as const) : ("unavailable" as const), checks };
      return ok ? answer : new Reply(503, answer);
    },
  }),
];
