import { parseEnv } from "@authplane/service-kit";
import { Env } from "../src/env.js";

// Services share one Redis in production; a shared key (e.g. the per-IP bucket "rl:ip:<ip>") would
// let one service's traffic spend another's rate limit.
test("this service's Redis keys live under its own prefix by default", () => {
  expect(parseEnv(Env, { NODE_ENV: "development" }).REDIS_PREFIX).toBe("webauthn-credential:");
  expect(parseEnv(Env, { NODE_ENV: "development", REDIS_PREFIX: "acme:" }).REDIS_PREFIX).toBe("acme:");
});

test("production refuses the development decoy secret, naming the variable", () => {
  expect(() => parseEnv(Env, { NODE_ENV: "production" })).toThrow(/DECOY_CREDENTIAL_SECRET/);
  expect(() => parseEnv(Env, { NODE_ENV: "production", DECOY_CREDENTIAL_SECRET: "short" })).toThrow(/DECOY_CREDENTIAL_SECRET/);
  const secret = "x".repeat(32);
  // Production also needs this service's NATS credentials (see service-kit).
  const nats = {
    NATS_USER: "webauthn-credential",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
    OPERATOR_TOKEN: "an-operator-token-of-32-characters-at-least",
  };
  expect(
    parseEnv(Env, { NODE_ENV: "production", DECOY_CREDENTIAL_SECRET: secret, USERNAME_HASH_SECRET: "y".repeat(32), ...nats })
      .DECOY_CREDENTIAL_SECRET,
  ).toBe(secret);
  expect(
    parseEnv(Env, { NODE_ENV: "production", DECOY_CREDENTIAL_SECRET: secret, USERNAME_HASH_SECRET: "y".repeat(32), ...nats }).DEMO_ENABLED,
  ).toBe(false);
  expect(() =>
    parseEnv(Env, {
      NODE_ENV: "production",
      DECOY_CREDENTIAL_SECRET: secret,
      USERNAME_HASH_SECRET: "y".repeat(32),
      OPERATOR_TOKEN: nats.OPERATOR_TOKEN,
    }),
  ).toThrow(/NATS credentials are required in production/);
});

test("production refuses the development username hash secret, naming the variable", () => {
  const decoy = {
    DECOY_CREDENTIAL_SECRET: "x".repeat(32),
    NATS_USER: "webauthn-credential",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
    OPERATOR_TOKEN: "an-operator-token-of-32-characters-at-least",
  };
  expect(() => parseEnv(Env, { NODE_ENV: "production", ...decoy })).toThrow(/USERNAME_HASH_SECRET/);
  expect(() => parseEnv(Env, { NODE_ENV: "production", ...decoy, USERNAME_HASH_SECRET: "short" })).toThrow(/USERNAME_HASH_SECRET/);
  const secret = "z".repeat(40);
  expect(parseEnv(Env, { NODE_ENV: "production", ...decoy, USERNAME_HASH_SECRET: secret }).USERNAME_HASH_SECRET).toBe(secret);
  // Outside production the development default works (npm start, tests).
  expect(parseEnv(Env, { NODE_ENV: "development" }).USERNAME_HASH_SECRET.length).toBeGreaterThanOrEqual(32);
});

test("the Admin API's operator token: required (>= 32 characters) in production, a development default otherwise", () => {
  const prod = {
    NODE_ENV: "production",
    DECOY_CREDENTIAL_SECRET: "x".repeat(32),
    USERNAME_HASH_SECRET: "y".repeat(32),
    NATS_USER: "webauthn-credential",
    NATS_PASSWORD: "a-long-random-nats-password-0123",
  };
  expect(() => parseEnv(Env, prod)).toThrow(/OPERATOR_TOKEN/);
  expect(() => parseEnv(Env, { ...prod, OPERATOR_TOKEN: "short" })).toThrow(/OPERATOR_TOKEN/);
  const token = "t".repeat(32);
  expect(parseEnv(Env, { ...prod, OPERATOR_TOKEN: token }).OPERATOR_TOKEN).toBe(token);
  expect(parseEnv(Env, { NODE_ENV: "development" }).OPERATOR_TOKEN).toBe("dev-operator-token");
});
