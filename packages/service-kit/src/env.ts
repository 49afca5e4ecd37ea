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
  /**
   * NATS servers, comma-separated (`nats://nats-0:4222,nats://nats-1:4222,nats://nats-2:4222`):
   * the client connects to one of them and, when it goes away, reconnects to another, forever.
   */
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  /**
   * Replicas of every JetStream stream the service declares (AUTH_EVENTS, OTP_REQUESTS; their
   * consumers inherit it). 1 for one NATS server; 3 on a 3-node JetStream cluster, so a stream
   * keeps its messages and a leader when one node is lost. Must not exceed the cluster's size.
   */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Prefix of every NATS subject (empty in production; tests isolate themselves with it). */
  NATS_SUBJECT_PREFIX: z.string().default(""),
  /** Suffix of JetStream stream names (empty in production). */
  NATS_STREAM_SUFFIX: z.string().default(""),
  /**
   * NATS credentials of this service (infra/nats/ gives each service its own user and only its
   * own subjects). Exactly one of: NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED (an
   * `SU…` user seed) or NATS_CREDS_FILE (a JWT .creds file). Required in production; empty
   * outside it (the machine's unauthenticated development NATS).
   */
  NATS_USER: z.string().default(""),
  /** Password of NATS_USER. */
  NATS_PASSWORD: z.string().default(""),
  /** NATS authentication token (instead of a user). */
  NATS_TOKEN: z.string().default(""),
  /** NKey user seed (`SU…`); the server only holds its public key. */
  NATS_NKEY_SEED: z.string().default(""),
  /** Path of a NATS .creds file (user JWT + seed, decentralised auth). */
  NATS_CREDS_FILE: z.string().default(""),
  /** CA bundle (PEM file) to verify the NATS server's certificate; setting any NATS_TLS_* turns TLS on. */
  NATS_TLS_CA_FILE: z.string().default(""),
  /** Client certificate (PEM file) for mutual TLS; needs NATS_TLS_KEY_FILE. */
  NATS_TLS_CERT_FILE: z.string().default(""),
  /** Private key (PEM file) of NATS_TLS_CERT_FILE. */
  NATS_TLS_KEY_FILE: z.string().default(""),
  /**
   * Which proxies may set X-Forwarded-For (Express `trust proxy`): `loopback` (the dev gateway),
   * a hop count, a comma-separated list of addresses/CIDRs, or `false`.
   */
  TRUST_PROXY: z.string().default("loopback"),
  /**
   * Per-IP limits count an IPv6 client by this prefix (bits): every address of one /64 shares one
   * budget. IPv4 (and IPv4-mapped IPv6) addresses always count alone.
   */
  RATE_LIMIT_IPV6_PREFIX: z.coerce.number().int().min(16).max(128).default(64),
  /** How long a graceful shutdown may wait for in-flight requests before closing anyway. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * After SIGTERM, keep accepting requests this long with /readyz answering 503 before closing the
   * listener (lets load balancers that poll readiness take the instance out first). 0: at once.
   */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /**
   * Port of the Prometheus `/metrics` listener, separate from the public API port (which does not
   * answer /metrics) so that only the scraper's network can reach it. Bound to HOST. 0 (the
   * default, for development and tests where several services share a host) picks a free port
   * and logs it; deployments set a fixed one (docker-compose and the Kubernetes manifests: 9464).
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
});
export type BaseEnv = z.infer<typeof BaseEnv>;

/** Names of variables whose values must never be logged. */
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASS|KEY|KEYS|AUTH|URL|SEED)$/i;

/** The NATS connection variables (a subset of BaseEnv). */
export type NatsAuthEnv = Pick<
  BaseEnv,
  | "NODE_ENV"
  | "NATS_USER"
  | "NATS_PASSWORD"
  | "NATS_TOKEN"
  | "NATS_NKEY_SEED"
  | "NATS_CREDS_FILE"
  | "NATS_TLS_CA_FILE"
  | "NATS_TLS_CERT_FILE"
  | "NATS_TLS_KEY_FILE"
>;

/** Passwords and tokens shorter than this are refused in production. */
const MIN_NATS_SECRET_LENGTH = 16;

/**
 * Problems with the NATS credentials: more than one mechanism, half a user or a client
 * certificate, and in production no credentials at all or a development default (`dev-only-…`).
 * parseEnv applies it to every schema that has NATS_URL, so each service refuses to start.
 */
export function natsAuthProblems(env: Partial<NatsAuthEnv>): string[] {
  const problems: string[] = [];
  const mechanisms = [
    env.NATS_USER || env.NATS_PASSWORD ? "NATS_USER/NATS_PASSWORD" : null,
    env.NATS_TOKEN ? "NATS_TOKEN" : null,
    env.NATS_NKEY_SEED ? "NATS_NKEY_SEED" : null,
    env.NATS_CREDS_FILE ? "NATS_CREDS_FILE" : null,
  ].filter((m): m is string => m !== null);
  if (mechanisms.length > 1) problems.push(`NATS_USER: set only one NATS credential (got ${mechanisms.join(", ")})`);
  if (env.NATS_USER && !env.NATS_PASSWORD) problems.push("NATS_PASSWORD: required with NATS_USER");
  if (env.NATS_PASSWORD && !env.NATS_USER) problems.push("NATS_USER: required with NATS_PASSWORD");
  if (env.NATS_NKEY_SEED && !/^SU[A-Z2-7]{56}$/.test(env.NATS_NKEY_SEED)) problems.push("NATS_NKEY_SEED: not an NKey user seed (SU…)");
  if (Boolean(env.NATS_TLS_CERT_FILE) !== Boolean(env.NATS_TLS_KEY_FILE))
    problems.push("NATS_TLS_CERT_FILE: the client certificate and NATS_TLS_KEY_FILE go together");
  if (env.NODE_ENV === "production") {
    if (mechanisms.length === 0)
      problems.push(
        "NATS_USER: NATS credentials are required in production (NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED or NATS_CREDS_FILE)",
      );
    for (const [name, value] of [
      ["NATS_PASSWORD", env.NATS_PASSWORD],
      ["NATS_TOKEN", env.NATS_TOKEN],
    ] as const) {
      if (!value) continue;
      if (value.startsWith("dev-only-")) problems.push(`${name}: the development default is refused in production`);
      else if (value.length < MIN_NATS_SECRET_LENGTH)
        problems.push(`${name}: must be at least ${MIN_NATS_SECRET_LENGTH} characters in production`);
    }
  }
  return problems;
}

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
  if (result.success) {
    const data = result.data as Record<string, unknown>;
    // Every service that connects to NATS: refuse to start without credentials in production.
    if (data && typeof data === "object" && "NATS_URL" in data) {
      const problems = natsAuthProblems(data as Partial<NatsAuthEnv>);
      if (problems.length) throw new ConfigError(problems);
    }
    return result.data;
  }
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
    // Secret-named values go whole, except URLs, which are useful to see without their credentials.
    if (SECRET_NAME.test(k) && !/URLS?$/i.test(k) && typeof v === "string" && v.length > 0) out[k] = "[redacted]";
    else out[k] = redactValue(v);
  }
  return out;
}

/** A URL anywhere in a string (lists like NATS_URL's `nats://a,nats://b` included). */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s,;"'<>]+/gi;
/** `user:password@host` without a scheme (NATS and Redis accept it). */
const BARE_USERINFO = /(^|[\s,])([^\s,/:@*]+):([^\s,/@]+)@/g;
/** Query parameters whose values are credentials (`?password=`, `?sslpassword=`, `?access_token=`, `?api_key=` …). */
const SECRET_PARAM = /pass|secret|token|key|auth|sig|credential|session|code/i;

function redactValue(v: unknown): unknown {
  if (typeof v === "string") return v.replace(URL_IN_TEXT, redactUrl).replace(BARE_USERINFO, "$1$2:***@");
  if (Array.isArray(v)) return v.map(redactValue);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x)]));
  }
  return v;
}

/**
 * Masks the credentials of one URL: the password of `user:password@` (and a lone `token@`, which is
 * a credential too) and the values of secret-named query parameters. Unparseable text that looks
 * like it carries userinfo is masked whole.
 */
export function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return /@/.test(raw) ? "[redacted]" : raw;
  }
  if (u.password) u.password = "***";
  else if (u.username) u.username = "***";
  for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, "***");
  if (!u.username && !u.password && u.search === new URL(raw).search) return raw;
  return u.toString();
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
