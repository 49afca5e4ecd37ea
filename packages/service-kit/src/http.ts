import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import helmet from "helmet";
import { refuseHostileInput } from "./hostile-input.js";
import { ulid } from "./ulid.js";
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

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * express() + helmet + request ids + access log + metrics + /healthz /readyz /metrics.
 * Add routers to `app`, then call `finish(format)` to install the 404 and the error middleware.
 */
export function createHttpApp(opts: HttpAppOptions): { app: Express; finish(format: ErrorFormat): Express } {
  const { logger, metrics } = opts;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", opts.trustProxy);
  app.set("etag", false);
  app.use(helmet());

  app.use((req, res, next) => {
    const incoming = req.headers["x-request-id"];
    req.id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : ulid();
    res.setHeader("X-Request-Id", req.id);
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeLabel(req);
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      // Only the path, never the query string or headers (they may carry codes or keys).
      const line = { reqId: req.id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) };
      if (res.statusCode >= 500) logger.warn(line, "request");
      else logger.debug(line, "request");
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (req, res) => {
    // The answer says which dependency is down, never why: error messages carry internal hosts,
    // ports and user names. The detail goes to the log.
    const checks: Record<string, "ok" | "unavailable"> = {};
    let ok = true;
    await Promise.all(
      Object.entries(opts.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 1500);
          checks[name] = "ok";
        } catch (err) {
          ok = false;
          checks[name] = "unavailable";
          logger.warn({ reqId: req.id, dependency: name, err: err instanceof Error ? err.message : String(err) }, "not ready");
        }
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "unavailable", checks });
  });
  app.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  for (const { path, handler } of opts.beforeBody ?? []) app.use(path, handler);
  app.use(express.json({ limit: opts.bodyLimit ?? "64kb", strict: true, type: ["application/json", "application/*+json"] }));
  // NUL, lone surrogates, broken percent-encoding, `__proto__` keys, deep nesting: a 400 before
  // any route runs (see hostile-input.ts).
  app.use(refuseHostileInput());

  return {
    app,
    finish(format: ErrorFormat) {
      app.use((_req, _res, next) => next(new AppError(404, "not_found", "No such endpoint.")));
      app.use(errorMiddleware(format, logger));
      return app;
    },
  };
}

function routeLabel(req: Request): string {
  const routePath = (req.route as { path?: string } | undefined)?.path;
  if (routePath) return `${req.baseUrl}${routePath}`;
  return "unmatched";
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
