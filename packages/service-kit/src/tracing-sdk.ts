import { register } from "node:module";
import path from "node:path";
import { createAddHookMessageChannel } from "import-in-the-middle";
import { TRACING_SHUTDOWN } from "./tracing-config.js";

/**
 * Starts the OpenTelemetry SDK (loaded only by tracing-preload.ts when tracing is on):
 *
 * - a NodeTracerProvider (AsyncLocalStorage context, W3C `traceparent` propagation) whose
 *   resource names the service (OTEL_SERVICE_NAME, default: the directory the process runs in,
 *   e.g. `consumer-auth`; OTEL_RESOURCE_ATTRIBUTES adds more);
 * - the exporter: OTLP over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT, _HEADERS,
 *   _TIMEOUT: the exporter reads them itself) or `console` (OTEL_TRACES_EXPORTER=console), through
 *   a batch processor (OTEL_BSP_* tune it);
 * - sampling from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based, always on);
 * - the official instrumentations of http (server and client spans, context in and out),
 *   express (middleware and route spans), pg (queries, Prisma's included: it runs on pg through
 *   its driver adapter) and ioredis (commands). NATS and JetStream hops are traced by the kit
 *   itself (tracing.ts).
 *
 * The ESM loader hook is registered for the instrumented modules only (import-in-the-middle's
 * message channel), so every other module loads untouched.
 */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<void> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);

  const [{ NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { OTLPTraceExporter }, resources, instrumentation] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/instrumentation"),
    ]);
  const [{ HttpInstrumentation }, { ExpressInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }] = await Promise.all([
    import("@opentelemetry/instrumentation-http"),
    import("@opentelemetry/instrumentation-express"),
    import("@opentelemetry/instrumentation-pg"),
    import("@opentelemetry/instrumentation-ioredis"),
  ]);

  const serviceName = env.OTEL_SERVICE_NAME || path.basename(process.cwd());
  const exporter = env.OTEL_TRACES_EXPORTER?.trim() === "console" ? new ConsoleSpanExporter() : new OTLPTraceExporter();
  const provider = new NodeTracerProvider({
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ "service.name": serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();

  instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would be most of the spans and tell nothing.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)(\?|$)/.test(req.url ?? ""),
      }),
      new ExpressInstrumentation(),
      // Statement text only (parameters are never recorded: they hold hashes, codes, tokens).
      // Only inside traced work: the outbox relay's and pruners' polls would each be a trace.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      // Command names only; the default serializer would record arguments (keys and values).
      new IORedisInstrumentation({ dbStatementSerializer: (cmd) => cmd, requireParentSpan: true }),
    ],
  });
  await waitForAllMessagesAcknowledged();

  (globalThis as Record<symbol, unknown>)[TRACING_SHUTDOWN] = () => provider.shutdown();
}
