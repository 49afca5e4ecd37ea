/** Whether the environment asks for tracing (the standard OTEL_* variables; see tracing-preload.ts). */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Key under which the running SDK leaves its flush-and-stop function (called by the graceful shutdown). */
export const TRACING_SHUTDOWN = Symbol.for("authplane.tracing.shutdown");

/** Flushes and stops the tracing SDK if one runs in this process (spans of the last requests are exported). */
export async function shutdownTracing(): Promise<void> {
  const stop = (globalThis as Record<symbol, unknown>)[TRACING_SHUTDOWN];
  if (typeof stop === "function") await (stop as () => Promise<void>)();
}
