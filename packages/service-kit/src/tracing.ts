import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import {
  currentRequestId,
  REQUEST_ID_HEADER,
  REQUEST_ID_PATTERN,
  runOutsideRequestContext,
  runWithRequestContext,
} from "./request-context.js";

/*
 * Trace propagation across the hops the OpenTelemetry instrumentations do not see: NATS
 * request/reply, JetStream publishes (direct and through the outbox) and JetStream consumers.
 *
 * Only the OpenTelemetry API is used here. Without the SDK (tracing off, the default; see
 * tracing-preload.ts) every call below is a no-op: no span is recorded, no `traceparent` is
 * written. The request id (X-Request-Id) is propagated either way.
 */

const TRACER = "@authplane/service-kit";

/** The tracer the kit's own spans use. */
export function kitTracer() {
  return trace.getTracer(TRACER);
}

/** Trace and span ids of the active span, for log lines (undefined when nothing is traced). */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
}

/** W3C trace context fields (`traceparent`, `tracestate`) of `ctx`, as an event envelope carries them. */
export function traceContextFields(ctx: Context = context.active()): { traceparent?: string; tracestate?: string } {
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context described by W3C fields (from an envelope or headers), on top of the active one. */
export function contextFromTraceFields(fields: { traceparent?: string | null; tracestate?: string | null }): Context {
  const carrier: Record<string, string> = {};
  if (fields.traceparent) carrier.traceparent = fields.traceparent;
  if (fields.tracestate) carrier.tracestate = fields.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs `fn` outside the current request and trace: for background work a request merely
 * triggers (the outbox relay drains rows of many requests), which must neither carry that
 * request's id nor be counted in its trace.
 */
export function detached<T>(fn: () => T): T {
  return runOutsideRequestContext(() => context.with(ROOT_CONTEXT, fn));
}

/** The subset of NATS message headers used here (nats.js `MsgHdrs`). */
export interface NatsHeaderCarrier {
  get(k: string): string;
  set(k: string, v: string): void;
  has(k: string): boolean;
  keys(): string[];
}

const natsSetter: TextMapSetter<NatsHeaderCarrier> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const natsGetter: TextMapGetter<NatsHeaderCarrier> = {
  get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
  keys: (carrier) => carrier.keys(),
};

/**
 * Writes the trace context of `ctx` (`traceparent`, `tracestate`) and the request id into NATS
 * headers. `reqId` defaults to the current request's.
 */
export function injectNatsHeaders<H extends NatsHeaderCarrier>(h: H, ctx: Context = context.active(), reqId = currentRequestId()): H {
  propagation.inject(ctx, h, natsSetter);
  if (reqId) h.set(REQUEST_ID_HEADER, reqId);
  return h;
}

/** The trace context and request id carried by NATS headers (absent or malformed ids are dropped). */
export function extractNatsHeaders(h: NatsHeaderCarrier | undefined): { ctx: Context; reqId?: string } {
  if (!h) return { ctx: ROOT_CONTEXT };
  // The message's context only: whatever context the subscription callback runs in is unrelated.
  const ctx = propagation.extract(ROOT_CONTEXT, h, natsGetter);
  const raw = h.has(REQUEST_ID_HEADER) ? h.get(REQUEST_ID_HEADER) : "";
  return { ctx, reqId: REQUEST_ID_PATTERN.test(raw) ? raw : undefined };
}

export type MessagingOperation = "send" | "publish" | "process" | "receive";

/**
 * Starts (without ending) a span for one NATS hop, for work that does not fit one callback (the
 * outbox relay's batches); returns it with the context that carries it, to inject into headers.
 */
export function startMessagingSpan(
  operation: MessagingOperation,
  subject: string,
  opts: { parent?: Context; attributes?: Record<string, string | number | boolean> } = {},
): { span: Span; ctx: Context } {
  const parent = opts.parent ?? context.active();
  const span = kitTracer().startSpan(
    `${operation} ${subject}`,
    {
      kind: operation === "publish" ? SpanKind.PRODUCER : operation === "send" ? SpanKind.CLIENT : SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "nats",
        "messaging.destination.name": subject,
        "messaging.operation.type": operation,
        ...opts.attributes,
      },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends `span`, with an error status when `err` is given. */
export function endSpan(span: Span, err?: Error): void {
  if (err) {
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  }
  span.end();
}

/**
 * Runs `fn` in a span for one NATS hop (`send auth.keys.verify`, `process auth.otp.v1.requested`),
 * following the OpenTelemetry messaging conventions. `parent` is the context the span continues
 * (extracted from the message for consumers); the span ends when `fn` settles, with an error
 * status if it throws.
 */
export async function inMessagingSpan<T>(
  operation: MessagingOperation,
  subject: string,
  opts: { parent?: Context; reqId?: string; attributes?: Record<string, string | number | boolean> },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const run = () => {
    const { span, ctx } = startMessagingSpan(operation, subject, opts);
    return context.with(ctx, async () => {
      try {
        const result = await fn(span);
        endSpan(span);
        return result;
      } catch (err) {
        endSpan(span, err as Error);
        throw err;
      }
    });
  };
  // A consumer's work runs under the request id that started it (log lines, further messages).
  return opts.reqId ? runWithRequestContext({ reqId: opts.reqId }, run) : run();
}
