import { z } from "zod";

/**
 * Variables every service reads. Each service extends this with its own in `src/env.ts`.
 * A comment per variable; defaults are the development values used by `npm start`.
 */
export const BaseEnv = z.object({
  /** `production` turns on the strict checks (operator token, no dev routes, no dev defaults). */
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** pino level. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Host to bind the HTTP server to. */
  HOST: z.string().default("0.0.0.0"),
  /** Postgres server; the service uses only its own schema in it. */
  DATABASE_URL: z.string().url().default("postgresql://postgres@127.0.0.1:5432/postgres"),
  /** Size of the Postgres connection pool of one instance. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Redis server. */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Prefix of every Redis key this service writes (lets services share one Redis safely). */
  REDIS_PREFIX: z.string().default(""),
  /** NATS servers, comma-separated. */
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  /** Prefix of every NATS subject (empty in production; tests isolate themselves with it). */
  NATS_SUBJECT_PREFIX: z.string().default(""),
  /** Suffix of JetStream stream names (empty in production). */
  NATS_STREAM_SUFFIX: z.string().default(""),
  /**
   * Which proxies may set X-Forwarded-For (Express `trust proxy`): `loopback` (the dev gateway),
   * a hop count, a comma-separated list of addresses/CIDRs, or `false`.
   */
  TRUST_PROXY: z.string().default("loopback"),
  /** How long a graceful shutdown may wait for in-flight requests before closing anyway. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
});
export type BaseEnv = z.infer<typeof BaseEnv>;

/** Names of variables whose values must never be logged. */
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASS|KEY|AUTH|URL)$/i;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the environment with `schema`. Throws a ConfigError naming every bad variable;
 * `loadEnvOrExit` prints it and stops the process (config fails fast, in one place).
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

export function loadEnvOrExit<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseEnv(schema, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** The config with secret-looking values masked, safe to log at start-up. */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_NAME.test(k) && typeof v === "string" && v.length > 0) {
      // URLs are useful to see without their credentials.
      if (/URL$/i.test(k)) {
        try {
          const u = new URL(v);
          if (u.password) u.password = "***";
          out[k] = u.toString();
          continue;
        } catch {
          /* fall through */
        }
      }
      out[k] = "[redacted]";
    } else out[k] = v;
  }
  return out;
}

/** Express `trust proxy` value from TRUST_PROXY. */
export function trustProxySetting(value: string): boolean | number | string[] {
  if (value === "false" || value === "") return false;
  if (value === "true") return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** zod helper for boolean env vars ("true"/"false"/"1"/"0"). */
export const envBoolean = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
  .transform((v) => v === true || v === "true" || v === "1" || v === "yes");
