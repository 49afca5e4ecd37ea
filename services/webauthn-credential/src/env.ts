import { BaseEnv, envBoolean, operatorTokenEnv, refineOperatorToken, withOperatorToken } from "@authplane/service-kit";
import { z } from "zod";

const DEV_DECOY_CREDENTIAL_SECRET = "dev-only-decoy-credential-secret-change-me-in-production";
const DEV_USERNAME_HASH_SECRET = "dev-only-username-hash-secret-change-me-in-production";

export const Env = BaseEnv.extend({
  /** HTTP port (dev: 4004). */
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  /** This service's own Postgres schema. */
  DATABASE_SCHEMA: z.string().default("webauthn_credential"),
  /** Prefix of this service's Redis keys: services sharing one Redis never share a key (e.g. rate-limit buckets). */
  REDIS_PREFIX: z.string().default("webauthn-credential:"),
  /** Lifetime of a WebAuthn challenge (options -> process), seconds. Single use. */
  CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** Lifetime of an rtn_/atn_ one-time token (client -> your backend -> server API), seconds. */
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /**
   * How long, after an rtn_/atn_ token stops working, a hashed tombstone still tells an expired or
   * spent token (TokenExpired) from one never issued (TokenNotFound), seconds. 0 = no tombstones.
   */
  TOKEN_TOMBSTONE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400),
  /** Client API requests allowed per client IP group (IPv6 by RATE_LIMIT_IPV6_PREFIX) per minute. */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** Server API requests allowed per client IP group per minute (customers' backends: set higher). */
  RATE_LIMIT_SERVER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(6_000),
  /** Server API requests allowed per secret key per minute. */
  RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Admin API requests (operator token or secret key) allowed per client IP group per minute. */
  RATE_LIMIT_ADMIN_IP_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Client API requests allowed per (publishable key, client IP group) per minute. */
  RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** Client API requests allowed per publishable key from all clients per minute (organization-wide ceiling). */
  RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(60_000),
  /** Serve the demo page and its backend (`/demo`). Default: on outside production, off in production. */
  DEMO_ENABLED: envBoolean.optional(),
  /** Publishable key the demo page uses (test mode). `npm start` sets it to the dev organization's. */
  DEMO_PUBLISHABLE_KEY: z.string().optional(),
  /** Secret key the demo backend uses to call the server API. `npm start` sets it. */
  DEMO_SECRET_KEY: z.string().optional(),
  /**
   * HMAC key for the decoy credential id offered when a username-first sign-in names a user
   * without active passkeys (so the options do not tell who has passkeys). Required in production.
   */
  DECOY_CREDENTIAL_SECRET: z.string().min(32).default(DEV_DECOY_CREDENTIAL_SECRET),
  /**
   * HMAC key of the stored username hashes (usernames are kept only as HMAC-SHA256 of the
   * case-folded, NFKC-normalised name). Required in production; changing it makes every stored
   * username unmatchable (sign-in by id and discoverable sign-in keep working).
   */
  USERNAME_HASH_SECRET: z.string().min(32).default(DEV_USERNAME_HASH_SECRET),
  /** Bearer token of the platform operator for the Admin API (the dashboard); see service-kit's operator.ts. */
  ...operatorTokenEnv,
})
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && env.DECOY_CREDENTIAL_SECRET === DEV_DECOY_CREDENTIAL_SECRET)
      ctx.addIssue({ code: "custom", path: ["DECOY_CREDENTIAL_SECRET"], message: "must be set (>= 32 chars) in production" });
    if (env.NODE_ENV === "production" && env.USERNAME_HASH_SECRET === DEV_USERNAME_HASH_SECRET)
      ctx.addIssue({ code: "custom", path: ["USERNAME_HASH_SECRET"], message: "must be set (>= 32 chars) in production" });
    refineOperatorToken(env, ctx);
  })
  .transform((env) => withOperatorToken({ ...env, DEMO_ENABLED: env.DEMO_ENABLED ?? env.NODE_ENV !== "production" }));
export type Env = z.infer<typeof Env>;
