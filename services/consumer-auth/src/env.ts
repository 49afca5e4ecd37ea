import {
  BaseEnv,
  DEV_OTP_SEAL_KEYS,
  envBoolean,
  importSealPublicKey,
  operatorTokenEnv,
  RetentionEnvShape,
  refineOperatorToken,
  withOperatorToken,
} from "@authplane/service-kit";
import { z } from "zod";

const DEV_SIGNING_KEY_ENCRYPTION_KEY = "dev-only-signing-key-encryption-key-change-me-in-production";
const DEV_OTP_CODE_SECRET = "dev-only-otp-code-hmac-secret-change-me-in-production";

export const Env = BaseEnv.extend({
  /** HTTP port (dev 4001). */
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  /** This service's own Postgres schema. */
  DATABASE_SCHEMA: z.string().default("consumer_auth"),
  /** Prefix of this service's Redis keys: services sharing one Redis never share a key (e.g. rate-limit buckets). */
  REDIS_PREFIX: z.string().default("consumer-auth:"),
  /** `iss` claim of every access token (and the issuer checked on verify). */
  TOKEN_ISSUER: z.string().min(1).default("authplane-consumer-auth"),
  /**
   * Key that encrypts signing private keys at rest (AES-256-GCM; the AES key is SHA-256 of this
   * value). Required (>= 32 chars) in production; a dev default elsewhere.
   */
  SIGNING_KEY_ENCRYPTION_KEY: z.string().min(32).default(DEV_SIGNING_KEY_ENCRYPTION_KEY),
  /** A new signing key is created once the active one is this old (checked every minute). */
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().positive().default(30),
  /**
   * How often an instance reloads the signing keys from Postgres (picks up another instance's
   * rotation or withdrawal even if it missed the NATS announcement).
   */
  SIGNING_KEY_REFRESH_SECONDS: z.coerce.number().positive().default(30),
  /** `Cache-Control: public, max-age=<this>` of GET /.well-known/jwks.json. */
  JWKS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(300),
  /**
   * Extra wait before a rotated-in key signs, on top of JWKS_MAX_AGE_SECONDS +
   * SIGNING_KEY_REFRESH_SECONDS (clock skew, verifiers that cache longer than max-age: jose's
   * createRemoteJWKSet keeps a JWKS 10 min by default, which the 300 s default covers).
   */
  SIGNING_KEY_PUBLISH_MARGIN_SECONDS: z.coerce.number().int().min(0).default(300),
  /**
   * Upper bound on any organization's access-token TTL. A retired signing key stays in the JWKS
   * (and keeps verifying) for this long after retirement, so every token it signed can expire.
   */
  MAX_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(86_400),
  /**
   * Verified access tokens kept in memory (keyed by the whole token) so repeat checks skip the
   * signature work; revocation is still asked of Redis on every check. 0 disables the cache.
   */
  TOKEN_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).default(10_000),
  /** How long a verified token stays cached (never beyond its own `exp`). */
  TOKEN_CACHE_TTL_SECONDS: z.coerce.number().int().positive().default(60),
  /** Concurrent-tab grace: a spent refresh token reused within it gets the same new pair. */
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).default(20),
  /** Lifetime of an external-auth exchange code (the seed fixes it at 60 s; tests shorten it). */
  EXCHANGE_CODE_TTL_SECONDS: z.coerce.number().int().positive().default(60),
  /** Bearer credential for internal callers of /introspect (API gateway); empty disables it. */
  INTERNAL_INTROSPECTION_TOKEN: z.string().default(""),
  /**
   * The platform operator's bearer token (service-kit operator.ts): the Admin API (/api/v1/consumers,
   * /api/v1/stats/consumers) with X-Organization-Id + X-Mode. Required (>= 32 chars) in production.
   */
  ...operatorTokenEnv,
  /** Requests per minute per client IP group (IPv6 by RATE_LIMIT_IPV6_PREFIX) on every public endpoint. */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().positive().default(600),
  /**
   * Requests per minute per client IP group on the gateway endpoints (/introspect, /check): a
   * gateway that forwards no client address counts as one client, so this is set far higher.
   */
  RATE_LIMIT_GATEWAY_IP_PER_MINUTE: z.coerce.number().int().positive().default(60_000),
  /** Requests per minute per secret key (sk_, by hash) on every endpoint that takes one. */
  RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().positive().default(60_000),
  /** Requests per minute per (publishable key, client IP group). */
  RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: z.coerce.number().int().positive().default(300),
  /** Requests per minute per publishable key from all clients together (the organization-wide ceiling). */
  RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: z.coerce.number().int().positive().default(300_000),

  // --- OTP (used by the OTP use cases) ---
  /** Lifetime of an OTP code. */
  OTP_TTL_SECONDS: z.coerce.number().int().positive().default(600),
  /** Digits in an OTP code. */
  OTP_LENGTH: z.coerce.number().int().min(4).max(10).default(6),
  /** Wrong guesses after which a code is dead. */
  OTP_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  /** Minimum time between two sends to one identifier. */
  OTP_RESEND_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Sends per identifier (email/phone) per hour. */
  OTP_MAX_SENDS_PER_HOUR: z.coerce.number().int().positive().default(5),
  /** OTP requests per client IP per hour. */
  OTP_IP_REQUESTS_PER_HOUR: z.coerce.number().int().positive().default(30),
  /** OTP verify attempts per client IP per hour (on top of the per-code attempt limit). */
  OTP_IP_VERIFIES_PER_HOUR: z.coerce.number().int().positive().default(100),
  /** SMS sends per destination country per hour (SMS-pumping cap). */
  OTP_SMS_COUNTRY_HOURLY_CAP: z.coerce.number().int().positive().default(1000),
  /** SMS sends per organization and mode per hour, all countries together (SMS-pumping ceiling). */
  OTP_SMS_ORG_HOURLY_CAP: z.coerce.number().int().positive().default(2000),
  /** SMS sends per organization and mode per 24 h, all countries together. */
  OTP_SMS_ORG_DAILY_CAP: z.coerce.number().int().positive().default(10000),
  /** Identity-wide ceiling: wrong OTP codes per identifier per 24 h from all clients; then verify/request answer 429. */
  OTP_MAX_FAILED_VERIFIES_PER_DAY: z.coerce.number().int().positive().default(200),
  /** Wrong OTP codes per (identifier, client IP group) per 24 h before growing delays start. */
  OTP_CLIENT_FREE_FAILURES: z.coerce.number().int().min(0).default(5),
  /** First delay (seconds) after the free wrong codes; doubles with each further wrong code. */
  OTP_CLIENT_DELAY_BASE_SECONDS: z.coerce.number().positive().default(2),
  /** Cap of that delay (seconds). */
  OTP_CLIENT_DELAY_MAX_SECONDS: z.coerce.number().positive().default(3600),
  /** HMAC key for stored OTP code hashes. Required (>= 32 chars) in production. */
  OTP_CODE_SECRET: z.string().min(32).default(DEV_OTP_CODE_SECRET),

  /**
   * otp-delivery's X25519 public key (base64url, 32 bytes): every code in a delivery job is sealed
   * to it, so only otp-delivery (OTP_SEAL_PRIVATE_KEY) can read it. Required in production (the
   * development default is refused); generate a pair with `node infra/nats/otp-seal-keys.mjs`.
   */
  OTP_SEAL_PUBLIC_KEY: z
    .string()
    .refine((v) => {
      try {
        importSealPublicKey(v);
        return true;
      } catch {
        return false;
      }
    }, "must be an X25519 public key: 32 bytes in base64url")
    .default(DEV_OTP_SEAL_KEYS.publicKey),

  // --- demo page (/demo/consumer/) ---
  /** Serve the consumer browser SDK demo at /demo/consumer/. Default on outside production; cannot be on in production. */
  DEMO_ENABLED: envBoolean.optional(),
  /** Publishable key the demo page starts with (a test key). `npm start` sets the development organization's. */
  DEMO_PUBLISHABLE_KEY: z.string().default(""),

  // --- retention (src/retention.ts; RETENTION_INTERVAL_SECONDS, _BATCH_SIZE, _BATCH_PAUSE_MS, _MAX_BATCHES from service-kit) ---
  ...RetentionEnvShape,
  /**
   * Days a dead session is kept: a session is deleted once its last access token expired this long
   * ago AND (it was revoked this long ago, or none of its refresh tokens expires later). A revoked
   * session is therefore never deleted while one of its tokens could still be valid.
   */
  SESSION_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  /** Days an expired refresh token (spent, revoked or unused) is kept after its expiry. */
  REFRESH_TOKEN_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  /** Days after which a guest that was never upgraded and has no session left is deleted. */
  GUEST_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
})
  .superRefine((env, ctx) => {
    refineOperatorToken(env, ctx);
    if (env.NODE_ENV !== "production") return;
    if (env.DEMO_ENABLED === true)
      ctx.addIssue({
        code: "custom",
        path: ["DEMO_ENABLED"],
        message: "the demo page is for development only and cannot be enabled in production",
      });
    if (env.OTP_SEAL_PUBLIC_KEY === DEV_OTP_SEAL_KEYS.publicKey)
      ctx.addIssue({ code: "custom", path: ["OTP_SEAL_PUBLIC_KEY"], message: "the development key is refused in production" });
    if (env.SIGNING_KEY_ENCRYPTION_KEY === DEV_SIGNING_KEY_ENCRYPTION_KEY)
      ctx.addIssue({ code: "custom", path: ["SIGNING_KEY_ENCRYPTION_KEY"], message: "must be set (>= 32 chars) in production" });
    if (env.OTP_CODE_SECRET === DEV_OTP_CODE_SECRET)
      ctx.addIssue({ code: "custom", path: ["OTP_CODE_SECRET"], message: "must be set (>= 32 chars) in production" });
    if (env.INTERNAL_INTROSPECTION_TOKEN !== "" && env.INTERNAL_INTROSPECTION_TOKEN.length < 32)
      ctx.addIssue({ code: "custom", path: ["INTERNAL_INTROSPECTION_TOKEN"], message: "must be >= 32 chars in production" });
  })
  .transform((env) => withOperatorToken({ ...env, DEMO_ENABLED: env.DEMO_ENABLED ?? env.NODE_ENV !== "production" }));
export type Env = z.infer<typeof Env>;

/**
 * Seconds between a rotated-in signing key's publication in the JWKS and its first signature: the
 * JWKS cache lifetime, plus the periodic reload (an instance that missed the NATS announcement
 * serves the old JWKS that long), plus the margin. No verifier honouring max-age meets an unknown kid.
 */
export function signingKeyActivationDelaySeconds(
  env: Pick<Env, "JWKS_MAX_AGE_SECONDS" | "SIGNING_KEY_REFRESH_SECONDS" | "SIGNING_KEY_PUBLISH_MARGIN_SECONDS">,
): number {
  return env.JWKS_MAX_AGE_SECONDS + env.SIGNING_KEY_REFRESH_SECONDS + env.SIGNING_KEY_PUBLISH_MARGIN_SECONDS;
}
