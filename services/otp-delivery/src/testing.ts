import { type Logger, parseEnv } from "@authplane/service-kit";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";
import { type RunningService, startOtpDelivery } from "./service.js";

/**
 * Starts otp-delivery for a test (or for another service's end-to-end test): migrates its schema,
 * starts the consumer, the relay and HTTP on a random port. Pass `iso.env("otp-delivery")` plus
 * overrides (e.g. short DELIVERY_BACKOFF_SECONDS).
 */
export async function startTestOtpDelivery(vars: Record<string, string>, opts: { logger?: Logger } = {}): Promise<RunningService> {
  const env = parseEnv(Env, { PORT: "0", HOST: "127.0.0.1", ...vars });
  await migrate(env);
  return startOtpDelivery(env, opts);
}
