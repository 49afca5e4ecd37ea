import { BaseEnv } from "@authplane/service-kit";
import { z } from "zod";

/** Development default of OPERATOR_TOKEN; refused in production. */
const DEV_OPERATOR_TOKEN = "dev-operator-token";

export const Env = BaseEnv.extend({
  /** HTTP port (dev: 4002). */
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  /** This service's own Postgres schema. */
  DATABASE_SCHEMA: z.string().default("admin_key"),
  /** Prefix of this service's Redis keys: services sharing one Redis never share a key (e.g. rate-limit buckets). */
  REDIS_PREFIX: z.string().default("admin-key:"),
  /**
   * Bearer token of the operator API (create/list organizations). Required in production, at
   * least 32 characters; outside production it defaults to `dev-operator-token`.
   */
  OPERATOR_TOKEN: z.string().optional(),
  /** Admin/operator API requests allowed per client IP per minute. */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  /** Admin API requests allowed per secret key (and for the operator token) per minute. */
  RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().min(1).default(600),
})
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && (env.OPERATOR_TOKEN === undefined || env.OPERATOR_TOKEN.length < 32)) {
      ctx.addIssue({
        code: "custom",
        path: ["OPERATOR_TOKEN"],
        message: "must be set to a random string of at least 32 characters in production",
      });
    }
  })
  .transform((env) => ({ ...env, OPERATOR_TOKEN: env.OPERATOR_TOKEN ?? DEV_OPERATOR_TOKEN }));
export type Env = z.infer<typeof Env>;

/** What the CLI needs: the database only (it never serves HTTP, so no operator token). */
export const CliEnv = BaseEnv.pick({ NODE_ENV: true, LOG_LEVEL: true, DATABASE_URL: true, DATABASE_POOL_SIZE: true }).extend({
  DATABASE_SCHEMA: z.string().default("admin_key"),
});
export type CliEnv = z.infer<typeof CliEnv>;
