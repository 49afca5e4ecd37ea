import type { Request, RequestHandler } from "express";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN, type RequestContext, runWithRequestContext } from "./request-context.js";
import { ulid } from "./ulid.js";

/**
 * Request ids, the access log and the HTTP metrics, as the first middleware of every app.
 *
 * - The request id is the incoming `X-Request-Id` when it looks like one (the gateway sets it),
 *   otherwise a fresh ULID; it is echoed on the response and made the current request context,
 *   so every log line written while handling the request carries it (see logger.ts), and NATS
 *   requests and events sent meanwhile pass it on.
 * - One `info` line per request when the response is finished (`warn` for 5xx): request id,
 *   method, the matched route PATTERN (`/api/v1/keys/:id`, never the actual path: ids and codes
 *   are not logged), status, duration, response size. Never the query string, headers or body:
 *   they carry keys, tokens, codes and authorization (see the test "access log").
 * - A 429 is counted by the rate limit that refused it (`rate_limit_refusals_total{limit}`).
 */
export function accessLog(opts: { logger: Logger; metrics: Metrics }): RequestHandler {
  const { logger, metrics } = opts;
  return (req, res, next) => {
    const incoming = req.headers["x-request-id"];
    req.id = typeof incoming === "string" && REQUEST_ID_PATTERN.test(incoming) ? incoming : ulid();
    res.setHeader(REQUEST_ID_HEADER, req.id);
    const ctx: RequestContext = { reqId: req.id };
    res.locals[CONTEXT_LOCAL] = ctx;
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeLabel(req);
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      if (res.statusCode === 429) metrics.rateLimitRefusals.inc({ limit: ctx.refusedBy ?? "unknown" });
      const line = {
        reqId: req.id,
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        bytes: Number(res.getHeader("content-length") ?? 0) || undefined,
      };
      if (res.statusCode >= 500) logger.warn(line, "request");
      else logger.info(line, "request");
    });
    runWithRequestContext(ctx, next);
  };
}

const CONTEXT_LOCAL = "authplaneRequestContext";

/**
 * Re-enters the request's context. Middleware that calls `next()` from stream or socket events
 * (the JSON body parser) leaves AsyncLocalStorage's context behind; install this after it.
 */
export const restoreRequestContext: RequestHandler = (_req, res, next) => {
  const ctx = res.locals[CONTEXT_LOCAL] as RequestContext | undefined;
  if (ctx) runWithRequestContext(ctx, next);
  else next();
};

/** The matched route pattern, `unmatched` for a 404 (the raw path may hold ids or secrets). */
export function routeLabel(req: Request): string {
  const routePath = (req.route as { path?: string } | undefined)?.path;
  if (routePath) return `${req.baseUrl}${routePath}`;
  return "unmatched";
}
