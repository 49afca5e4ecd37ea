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
})
  .superRefine(refineOperatorToken)
  .transform(withOperatorToken);
export type Env = z.infer<typeof Env>;

/** What the CLI needs: the database only (it never serves HTTP, so no operator token). */
export const CliEnv = BaseEnv.pick({ NODE_ENV: true, LOG_LEVEL: true, DATABASE_URL: true, DATABASE_POOL_SIZE: true }).extend({
  DATABASE_SCHEMA: z.string().default("admin_key"),
});
export type CliEnv = z.infer<typeof CliEnv>;
