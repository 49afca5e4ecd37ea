import { isIP } from "node:net";
import {
  BaseEnv,
  DEV_OTP_SEAL_KEYS,
  envBoolean,
  importSealPrivateKey,
  operatorTokenEnv,
  RetentionEnvShape,
  refineOperatorToken,
  withOperatorToken,
} from "@authplane/service-kit";
import { z } from "zod";

/** Comma-separated list of positive seconds, e.g. "1,5,15,30,60". */
const secondsList = z
  .string()
  .transform((s) => s.split(",").map((p) => Number(p.trim())))
  .pipe(z.array(z.number().positive()).min(1));

export const Env = BaseEnv.extend({
  /** HTTP port (dev 4003): health, readiness, metrics and (dev transport only) /dev/outbox. */
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
  /** This service's own Postgres schema. */
  DATABASE_SCHEMA: z.string().default("otp_delivery"),
  /** Prefix of this service's Redis keys (the admin endpoints' rate-limit buckets; deliveries never use Redis). */
  REDIS_PREFIX: z.string().default("otp-delivery:"),
  /** Bearer token of the admin endpoints (the operator's, the same value on every service); see service-kit's operator.ts. */
  ...operatorTokenEnv,
  /** Admin endpoint requests allowed per client IP group per minute (before the token is checked). */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  /**
   * Where messages go: `dev` stores them in `dev_messages` and serves GET /dev/outbox (default
   * outside production, refused in production); `live` sends email by SMTP and SMS through the
   * provider (default in production).
   */
  DELIVERY_TRANSPORT: z.enum(["dev", "live"]).optional(),
  /**
   * Lifetime of an OTP code = max age of the OTP_REQUESTS stream. Must equal consumer-auth's
   * OTP_TTL_SECONDS: both services declare the stream with the same config.
   */
  OTP_TTL_SECONDS: z.coerce.number().int().positive().default(600),
  /** Durable JetStream consumer name; every instance uses the same one and they share the work. */
  DELIVERY_CONSUMER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("otp-delivery"),
  /**
   * Redelivery backoff (seconds): the JetStream consumer's `backoff` (redelivery after an instance
   * died holding a message; NATS also takes the first value as the ack wait, so an instance in the
   * middle of a send keeps its message with `working()` heartbeats) and the delay of the n-th retry
   * after a transient send failure.
   */
  DELIVERY_BACKOFF_SECONDS: secondsList.default([1, 5, 15, 30, 60, 120, 300]),
  /** Deliveries of one job before it is given up (JetStream max_deliver); > number of backoff values. */
  DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /**
   * Messages one instance works on at once (each holds a database connection only for its two
   * short statements, and an SMTP/SMS send in between). 4 drained ~90 messages/s: see the README.
   */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(64),
  /** Time limit of one SMTP or SMS send. */
  DELIVERY_SEND_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),

  /**
   * X25519 private key(s) (base64url, 32 bytes each) that open the codes consumer-auth seals to
   * OTP_SEAL_PUBLIC_KEY. Comma-separated during a rotation: the new key first, the old one kept
   * until the jobs sealed to it are gone (OTP_TTL_SECONDS). Required in production (the
   * development default is refused); generate a pair with `node infra/nats/otp-seal-keys.mjs`.
   */
  OTP_SEAL_PRIVATE_KEY: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.string().refine((v) => {
            try {
              importSealPrivateKey(v);
              return true;
            } catch {
              return false;
            }
          }, "must be X25519 private keys: 32 bytes in base64url each"),
        )
        .min(1),
    )
    .default([DEV_OTP_SEAL_KEYS.privateKey]),

  /** SMTP server host. */
  SMTP_HOST: z.string().default("127.0.0.1"),
  /** SMTP port (587 submission with STARTTLS, 465 implicit TLS, 1025 a local mail sink). */
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
  /** true: implicit TLS (port 465); false: STARTTLS when the server offers it. */
  SMTP_SECURE: envBoolean.default(false),
  /**
   * Refuse to send unless the connection is encrypted: with SMTP_SECURE=false the client must
   * upgrade with STARTTLS, and a server that does not offer it (or a downgrade that strips it) makes
   * the send fail instead of going out in clear. Default: on in production unless SMTP_HOST is a
   * loopback address or `localhost` (a local relay); off elsewhere.
   */
  SMTP_REQUIRE_TLS: envBoolean.optional(),
  /** SMTP user (empty: no authentication). */
  SMTP_USER: z.string().default(""),
  /** SMTP password. */
  SMTP_PASSWORD: z.string().default(""),
  /**
   * SMTP connections kept open and reused (nodemailer pool): a new connection per message meant
   * TCP + EHLO + STARTTLS + AUTH for every code. Relays limit connections per client: keep it small.
   */
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  /** From header of OTP emails. */
  MAIL_FROM: z.string().min(3).default("Authplane <no-reply@authplane.local>"),

  /** Twilio-compatible provider base URL (no trailing path). */
  SMS_BASE_URL: z.string().url().default("https://api.twilio.com"),
  /** Provider account SID (the HTTP Basic user). Empty: SMS jobs fail (a warning is logged at start-up). */
  SMS_ACCOUNT_SID: z.string().default(""),
  /** Provider auth token (the HTTP Basic password). */
  SMS_AUTH_TOKEN: z.string().default(""),
  /** Sender number (E.164) or messaging service id. */
  SMS_FROM: z.string().default(""),

  // --- retention (src/retention.ts; RETENTION_INTERVAL_SECONDS, _BATCH_SIZE, _BATCH_PAUSE_MS, _MAX_BATCHES from service-kit) ---
  ...RetentionEnvShape,
  /**
   * Days a delivery record is kept after its last change (sent/failed), or after its creation if
   * it is still pending. Must exceed OTP_TTL_SECONDS: a job can be redelivered only while its
   * stream keeps it, and its record is what stops a second send.
   */
  DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Dev outbox / test-mode sink: messages older than this (minutes) are deleted from `dev_messages`. */
  DEV_OUTBOX_RETENTION_MINUTES: z.coerce.number().int().min(1).default(60),
  /** Dev outbox / test-mode sink: at most this many messages are kept (the newest). */
  DEV_OUTBOX_MAX_MESSAGES: z.coerce.number().int().min(1).default(1000),
})
  .superRefine((env, ctx) => {
    if (env.DELIVERY_MAX_ATTEMPTS <= env.DELIVERY_BACKOFF_SECONDS.length) {
      // JetStream refuses a consumer whose max_deliver does not exceed the backoff list.
      ctx.addIssue({
        code: "custom",
        path: ["DELIVERY_MAX_ATTEMPTS"],
        message: "must exceed the number of DELIVERY_BACKOFF_SECONDS steps",
      });
    }
    if (env.DELIVERY_RETENTION_DAYS * 86_400 <= env.OTP_TTL_SECONDS)
      ctx.addIssue({ code: "custom", path: ["DELIVERY_RETENTION_DAYS"], message: "must exceed OTP_TTL_SECONDS" });
    refineOperatorToken(env, ctx);
    if (env.NODE_ENV !== "production") return;
    if (env.OTP_SEAL_PRIVATE_KEY.includes(DEV_OTP_SEAL_KEYS.privateKey))
      ctx.addIssue({ code: "custom", path: ["OTP_SEAL_PRIVATE_KEY"], message: "the development key is refused in production" });
    if (env.DELIVERY_TRANSPORT === "dev")
      ctx.addIssue({ code: "custom", path: ["DELIVERY_TRANSPORT"], message: "the dev transport is refused in production" });
  })
  .transform((env) => ({
    ...withOperatorToken(env),
    DELIVERY_TRANSPORT: env.DELIVERY_TRANSPORT ?? (env.NODE_ENV === "production" ? "live" : "dev"),
    SMTP_REQUIRE_TLS: env.SMTP_REQUIRE_TLS ?? (env.NODE_ENV === "production" && !isLoopbackHost(env.SMTP_HOST)),
  }));

/** `localhost`, `*.localhost`, 127.0.0.0/8 and ::1: a relay on this machine, reached without a network. */
function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
  return false;
}
export type Env = z.infer<typeof Env>;
