import { pino, type Logger } from "pino";
import { currentRequestId } from "./request-context.js";
import { activeTraceIds } from "./tracing.js";

export type { Logger };

/**
 * Paths pino replaces with "[redacted]". Keys, tokens, codes and authorization headers never reach
 * a log line, whatever object they are found in (two levels deep by wildcard).
 */
export const REDACT_PATHS = [
  "authorization",
  "password",
  "token",
  "code",
  "otp",
  "secret",
  "key",
  "apiKey",
  "publishableKey",
  "secretKey",
  "accessToken",
  "refreshToken",
  "exchangeCode",
  "privateKey",
  "headers.authorization",
  "headers.cookie",
  'headers["x-publishable-key"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-publishable-key"]',
  "*.authorization",
  "*.password",
  "*.token",
  "*.code",
  "*.otp",
  "*.secret",
  "*.key",
  "*.apiKey",
  "*.publishableKey",
  "*.secretKey",
  "*.accessToken",
  "*.refreshToken",
  "*.exchangeCode",
  "*.privateKey",
  "*.keys",
  "*.*.token",
  "*.*.code",
  "*.*.key",
  "*.*.secret",
];

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Where lines go (tests pass a stream to assert nothing secret is logged). */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { service: opts.name },
      // Every line written while a request or NATS message is handled carries its request id
      // (and, with tracing on, the trace and span ids), wherever in the code it is written.
      mixin() {
        const reqId = currentRequestId();
        const trace = activeTraceIds();
        if (!reqId && !trace) return {};
        return { ...(reqId ? { reqId } : {}), ...trace };
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ sync: false }),
  );
}
