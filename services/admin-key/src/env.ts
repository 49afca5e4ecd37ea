import { BaseEnv, operatorTokenEnv, refineOperatorToken, withOperatorToken } from "@authplane/service-kit";
import { z } from "zod";

export const Env = BaseEnv.extend({
  /** HTTP port (dev: 4002). */
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  /** This service's own Postgres schema. */
  DATABASE_SCHEMA: z.string().default("admin_key"),
  /** Prefix of this service's Redis keys: services sharing one Redis never share a key (e.g. rate-limit buckets). */
  REDIS_PREFIX: z.string().default("admin-key:"),
  /** Bearer token of the operator API (create/list organizations); see service-kit's operator.ts. */
  ...operatorTokenEnv,
  /** Admin/operator API requests allowed per client IP per minute. */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  /** Admin API requests allowed per secret key (and for the operator token) per minute. */
  RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Web console (/dashboard): a session ends after this long without a request. */
  DASHBOARD_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  /** Web console: a session ends this long after sign-in, however active. */
  DASHBOARD_ABSOLUTE_TIMEOUT_SECONDS: z.coerce.number().int().min(300).max(604_800).default(43_200),
  /**
   * Web console cookie: `Secure` with the `__Host-` prefix (the console then needs https). Default:
   * on in production, off otherwise (http://localhost).
   */
  DASHBOARD_SECURE_COOKIE: z.enum(["true", "false"]).optional(),
  /** Web console: failed-or-not operator sign-in attempts allowed per client IP group per 15 minutes. */
  DASHBOARD_SIGN_IN_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  /**
   * Web console: its public origin (`https://console.example`) when set; a state-changing request
   * must carry exactly this `Origin`. Unset: the origin the request names through the trusted proxy
   * (`X-Forwarded-Proto` + `X-Forwarded-Host`, see TRUST_PROXY) or its own Host.
   */
  DASHBOARD_PUBLIC_ORIGIN: z
    .url()
    .transform((u) => new URL(u).origin)
    .optional(),
  /** Web console: base URL of the gateway through which it calls the other services' admin endpoints. */
  DASHBOARD_API_URL: z.url().default("http://127.0.0.1:8080"),
  /** Web console: timeout of one call to another service's admin endpoint. */
  DASHBOARD_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Web console live tail: a heartbeat comment, and a re-check of the session, this often (seconds). */
  DASHBOARD_TAIL_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
  /**
   * Web console: the key (≥ 32 chars) that seals the console organization's secret key at rest.
   * Unset: derived from OPERATOR_TOKEN (then changing the operator token issues a new secret key).
   */
  DASHBOARD_SEAL_KEY: z.string().min(32).optional(),
  /** Web console: organization-admin sign-in codes sent per email address per 15 minutes. */
  DASHBOARD_ADMIN_CODES_PER_EMAIL: z.coerce.number().int().min(1).default(5),
})
  .superRefine(refineOperatorToken)
  .transform(withOperatorToken);
export type Env = z.infer<typeof Env>;

/** What the CLI needs: the database only (it never serves HTTP, so no operator token). */
export const CliEnv = BaseEnv.pick({ NODE_ENV: true, LOG_LEVEL: true, DATABASE_URL: true, DATABASE_POOL_SIZE: true }).extend({
  DATABASE_SCHEMA: z.string().default("admin_key"),
});
export type CliEnv = z.infer<typeof CliEnv>;
