import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What the kit knows about the request (or NATS message) being worked on, carried across awaits
 * with AsyncLocalStorage so that log lines, outgoing NATS requests and new events pick up the
 * request id without every function passing it along.
 */
export interface RequestContext {
  /** X-Request-Id of the HTTP request, or of the NATS message that started this work. */
  reqId: string;
  /** Name of the rate limit that refused this request (set by RateLimit, read by the access log). */
  refusedBy?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `ctx` as the current request context. */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Runs `fn` with no current request context. */
export function runOutsideRequestContext<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** The current request context, if any. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** The current request id, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.reqId;
}

/** Header carrying the request id over HTTP and NATS. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** What an incoming request id may look like (anything else is replaced by a fresh one). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
