import { parseEnv } from "@authplane/service-kit";
import { Env } from "../src/env.js";

// Services share one Redis in production; a shared key (e.g. the per-IP bucket "rl:ip:<ip>") would
// let one service's traffic spend another's rate limit.
test("this service's Redis keys live under its own prefix by default", () => {
  expect(parseEnv(Env, { NODE_ENV: "development" }).REDIS_PREFIX).toBe("webauthn-credential:");
  expect(parseEnv(Env, { NODE_ENV: "development", REDIS_PREFIX: "acme:" }).REDIS_PREFIX).toBe("acme:");
});
