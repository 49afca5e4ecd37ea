import type { NextFunction, Request, Response } from "express";
import { ulid } from "./ulid.js";
import { z } from "zod";
import type { Logger } from "./logger.js";

/**
 * An error a route means to send. `code` is the catalog code; services map it to their wire
 * format (seed 000 `{error, message}` or seed 003 `{result, errors}`) in their ErrorFormat.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
    readonly options: { headers?: Record<string, string>; details?: Record<string, unknown> } = {},
  ) {
    super(message ?? code);
    this.name = "AppError";
  }
}

/** Invalid input: a 400 with the zod issues (paths and messages only, never the values). */
export class ValidationError extends AppError {
  constructor(readonly issues: Array<{ path: (string | number)[]; message: string; code?: string }>) {
    super(400, "validation_error", "The request is invalid.");
    this.name = "ValidationError";
  }
}

/** A dependency (Postgres, Redis, NATS) cannot be reached or answered too slowly. */
export class DependencyUnavailableError extends AppError {
  constructor(
    readonly dependency: "postgres" | "redis" | "nats",
    cause?: unknown,
  ) {
    super(503, "service_unavailable", `A backing service (${dependency}) is unavailable. Try again shortly.`, {
      headers: { "Retry-After": "1" },
    });
    this.name = "DependencyUnavailableError";
    if (cause) (this as { cause?: unknown }).cause = cause;
  }
}

/** Parse with a zod schema; throws ValidationError (never a 500) on bad input. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(
    r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message, code: i.code })),
  );
}

/**
 * Recognizes dependency faults thrown by ioredis, pg/Prisma and NATS, so that they become a clear
 * 503 instead of a generic 500. Deliberately narrow: a query bug (bad SQL, constraint violation)
 * must stay a 500 with an errorId, not hide behind "unavailable". Walks the `cause` chain, since
 * Prisma's driver adapters wrap the pg error.
 */
export function classifyDependencyError(err: unknown): DependencyUnavailableError | null {
  if (err instanceof DependencyUnavailableError) return err;
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const dep = classifyOne(e as { name?: string; message?: string; code?: unknown; kind?: unknown; constructor?: { name?: string } });
    if (dep) return new DependencyUnavailableError(dep, err);
  }
  return null;
}

const REDIS_FAULT = /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Reached the max retries per request/;
const PG_FAULT_CODES = /^(P1001|P1002|P1008|P1017|P2024|57P01|57P02|57P03|53300|08000|08001|08003|08004|08006)$/;
// Prisma's P2028 when no pool connection came in time (maxWait) or the transaction outlived its
// timeout (rolled back): the database is slow or saturated, not a bug in the query.
const PG_FAULT =
  /Can't reach database|Connection terminated|timeout exceeded when trying to connect|DatabaseNotReachable|too many clients|the database system is (starting up|shutting down)|terminating connection due to administrator command|Query read timeout|Unable to start a transaction in the given time|cannot be executed on an expired transaction|Transaction already closed/i;
const NET_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)$/;
const NATS_CODES = /^(TIMEOUT|503|CONNECTION_CLOSED|CONNECTION_DRAINING|CONNECTION_REFUSED|DISCONNECT)$/;
const NATS_FAULT = /no responders|CONNECTION_CLOSED|connection closed|connection draining|TIMEOUT/;

function classifyOne(e: {
  name?: string;
  message?: string;
  code?: unknown;
  kind?: unknown;
  constructor?: { name?: string };
}): DependencyUnavailableError["dependency"] | null {
  const name = `${e.name ?? ""} ${e.constructor?.name ?? ""}`;
  const msg = String(e.message ?? "");
  const code = String(e.code ?? "");
  if (/Redis|MaxRetriesPerRequest/i.test(name) || REDIS_FAULT.test(msg)) return "redis";
  if (e.kind === "DatabaseNotReachable" || e.kind === "ConnectionClosed" || PG_FAULT_CODES.test(code) || PG_FAULT.test(msg))
    return "postgres";
  if (/Prisma|DriverAdapter|DatabaseError/i.test(name) && (NET_CODES.test(code) || /ECONNREFUSED|ECONNRESET/.test(msg))) return "postgres";
  if (
    // "PrismaClientKnownRequestError" contains "RequestError": a SQL bug must stay a 500.
    (!/Prisma/i.test(name) && /Nats|JetStream|NoResponders|ClosedConnection|RequestError|ConnectionError/i.test(name)) ||
    NATS_CODES.test(code) ||
    NATS_FAULT.test(msg)
  ) {
    return "nats";
  }
  // A bare socket error: pg's pool surfaces ECONNREFUSED with the port in the message.
  if (NET_CODES.test(code)) return /:6379\b/.test(msg) ? "redis" : /:4222\b/.test(msg) ? "nats" : "postgres";
  return null;
}

/** How a service renders an AppError on the wire. */
export interface ErrorFormat {
  body(err: AppError): unknown;
}

/** Seed 000 format: `{"error": code, "message"?}`; validation adds `issues`. */
export const consumerErrorFormat: ErrorFormat = {
  body(err) {
    if (err instanceof ValidationError) return { error: "validation_error", issues: err.issues };
    const body: Record<string, unknown> = { error: err.code };
    // The seed's sentence-style errors ("Authentication required") carry no message.
    if (err.message && err.message !== err.code) body.message = err.message;
    if (err.options.details) Object.assign(body, err.options.details);
    return body;
  },
};

/**
 * The wire schema of a `consumerErrorFormat` answer whose code is one of `codes` (for an API's
 * `errorSchema`, endpoint builder): `{error, message?, retryAfter?, errorId?}`, or
 * `{error: "validation_error", issues}` when `codes` names it.
 */
export function consumerErrorSchema(codes: readonly string[]): z.ZodType {
  const plain = codes.filter((c) => c !== "validation_error");
  const shapes: z.ZodType[] = [];
  if (plain.length)
    shapes.push(
      z.object({
        error: z.enum(plain as [string, ...string[]]),
        message: z.string().optional(),
        retryAfter: z.number().int().optional(),
        errorId: z.string().optional(),
      }),
    );
  if (codes.includes("validation_error"))
    shapes.push(
      z.object({
        error: z.literal("validation_error"),
        issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string().optional() })),
      }),
    );
  return shapes.length === 1 ? (shapes[0] as z.ZodType) : z.union(shapes as [z.ZodType, z.ZodType]);
}

/** The one error middleware. Unknown errors become a generic 500 with an errorId that is logged. */
export function errorMiddleware(format: ErrorFormat, logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let appErr: AppError;
    const bodyErr = err as { type?: string; status?: number; expose?: boolean };
    if (err instanceof AppError) appErr = err;
    else if (bodyErr?.type === "entity.parse.failed") appErr = new ValidationError([{ path: [], message: "Body is not valid JSON" }]);
    else if (bodyErr?.type === "entity.too.large") appErr = new AppError(413, "payload_too_large", "The request body is too large.");
    // A path parameter that is not valid percent-encoding (Express's router throws URIError).
    else if (err instanceof URIError)
      appErr = new ValidationError([{ path: ["(path)"], message: "The path is not valid percent-encoded UTF-8" }]);
    else if (bodyErr?.expose && typeof bodyErr.status === "number" && bodyErr.status < 500)
      appErr = new AppError(bodyErr.status, "bad_request", "The request could not be read.");
    else {
      const dep = classifyDependencyError(err);
      if (dep) {
        logger.warn({ reqId: req.id, dependency: dep.dependency, err: describe(err) }, "dependency unavailable");
        appErr = dep;
      } else {
        const errorId = ulid();
        logger.error({ reqId: req.id, errorId, err }, "unhandled error");
        appErr = new AppError(500, "internal_error", "An internal error occurred.", { details: { errorId } });
      }
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(appErr.options.headers ?? {})) res.setHeader(k, v);
    res.status(appErr.status).json(format.body(appErr));
  };
}

function describe(err: unknown): { name?: string; message?: string; code?: unknown } {
  if (err && typeof err === "object") {
    const e = err as { name?: string; message?: string; code?: unknown };
    return { name: e.name, message: e.message, code: e.code };
  }
  return { message: String(err) };
}

declare module "http" {
  interface IncomingMessage {
    /** Request id (X-Request-Id or generated). */
    id: string;
  }
}

/**
 * The errors any route of a seed-format API can answer before or around its handler: hostile or
 * unreadable input (400), a body over the limit (413), an unexpected fault (500), an
 * unavailable dependency (503) — the codes `errorMiddleware` itself produces. An API's
 * `commonErrors` in the seed format.
 */
export const SEED_COMMON_ERRORS = {
  400: ["validation_error", "bad_request"],
  413: ["payload_too_large"],
  500: ["internal_error"],
  503: ["service_unavailable"],
} as const;
