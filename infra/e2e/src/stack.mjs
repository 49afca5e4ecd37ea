// Starts the REAL built services (`node services/<svc>/dist/main.js`) and the gateway as child
// processes, each with an isolated environment on the machine's Postgres/Redis/NATS
// (createTestIsolation), waits until they are ready, and stops them all again. Used by the
// end-to-end suite and by the benchmark.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestIsolation } from "@authplane/service-kit/testing";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Env variable the gateway reads for each service's base URL. */
const GATEWAY_VAR = {
  "consumer-auth": "CONSUMER_AUTH_URL",
  "admin-key": "ADMIN_KEY_URL",
  "otp-delivery": "OTP_DELIVERY_URL",
  "webauthn-credential": "WEBAUTHN_CREDENTIAL_URL",
};

/** A TCP port that was free a moment ago. */
export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A port allocator handing out free ports from `base` upwards (a range reserved for one test run),
 * or any free port when `base` is 0.
 */
export function portsFrom(base) {
  let next = base;
  return async () => {
    if (!base) return freePort();
    for (; next < base + 1000; next++) {
      const port = next;
      const free = await new Promise((resolve) => {
        const s = net.createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
      });
      if (free) {
        next = port + 1;
        return port;
      }
    }
    throw new Error(`no free port in ${base}-${base + 999}`);
  };
}

/**
 * Every per-minute/per-hour rate limit of every service lifted (env values for `startStack`'s
 * `env`; a service ignores the variables it does not have): for benchmarks and load tests that
 * must measure the hot paths, not the limiter's 429s.
 */
export const UNLIMITED_RATE_LIMITS = Object.freeze(
  Object.fromEntries(
    [
      "RATE_LIMIT_IP_PER_MINUTE",
      "RATE_LIMIT_GATEWAY_IP_PER_MINUTE",
      "RATE_LIMIT_KEY_PER_MINUTE",
      "RATE_LIMIT_SERVER_IP_PER_MINUTE",
      "RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE",
      "RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE",
      "OTP_IP_REQUESTS_PER_HOUR",
      "OTP_IP_VERIFIES_PER_HOUR",
      "OTP_MAX_SENDS_PER_HOUR",
    ].map((name) => [name, "1000000000"]),
  ),
);

/** The service kit's tracing preload (`node --import …`; see packages/service-kit/src/tracing-preload.ts). */
export const TRACING_PRELOAD = path.join(root, "packages/service-kit/dist/tracing-preload.js");

/** The node flags every service runs with (infra/docker/Dockerfile, each service's `npm start`). */
const SERVICE_NODE_FLAGS = ["--max-semi-space-size=2", "--max-old-space-size=96"];

function entryOf(name) {
  return name === "gateway" ? path.join(root, "infra/gateway/dist/main.js") : path.join(root, "services", name, "dist/main.js");
}

/** Spawns one process and keeps the last lines of its output for error messages. */
function launch(name, env, keepOutput = false, nodeArgs = []) {
  const entry = entryOf(name);
  if (!existsSync(entry)) throw new Error(`${path.relative(root, entry)} does not exist: build first (npx tsc -b tsconfig.build.json)`);
  // As deployed: with the tracing preload, which loads nothing unless OTEL_* asks for tracing, and
  // the services' small-heap settings (infra/docker/Dockerfile, each service's `npm start`).
  const service = name !== "gateway";
  const child = spawn(process.execPath, [...(service ? SERVICE_NODE_FLAGS : []), ...nodeArgs, "--import", TRACING_PRELOAD, entry], {
    cwd: path.dirname(path.dirname(entry)),
    env: service ? { MALLOC_ARENA_MAX: "2", ...env } : env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = [];
  const all = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (d) => {
      for (const line of d.split("\n")) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > 60) tail.shift();
        if (keepOutput && all.length < 50_000) all.push(line);
      }
    });
  }
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { name, child, tail, exited, output: () => tail.join("\n"), allOutput: () => all.join("\n") };
}

async function waitReady(proc, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  let dead = null;
  proc.exited.then((r) => {
    dead = r;
  });
  for (;;) {
    if (dead) throw new Error(`${proc.name} exited (${dead.code ?? dead.signal}) before it was ready:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms (last: ${last}):\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * @param {{ services: string[], gateway?: boolean, env?: Record<string, Record<string, string>>,
 *           readyTimeoutMs?: number, logLevel?: string, keepOutput?: boolean, instances?: number,
 *           port?: () => Promise<number>, nodeArgs?: Record<string, string[]> }} opts
 */
export async function startStack(opts) {
  const iso = createTestIsolation();
  const nextPort = opts.port ?? freePort;
  const instances = opts.instances ?? 1;
  /** Base URLs of every instance of each service (the gateway gets them all). */
  const instanceUrls = {};
  /** One operator token for every service: admin-key's operator API and the others' Admin API endpoints. */
  const operatorToken = `op_${randomBytes(24).toString("hex")}`;
  // The gateway's port is chosen first: admin-key's dashboard calls the Admin API through it.
  const gatewayPort = opts.gateway ? await nextPort() : null;
  const urls = {};
  /** Base URL of each service's metrics listener (METRICS_PORT): `${metricsUrls[name]}/metrics`. */
  const metricsUrls = {};
  const procs = [];
  const envs = {};
  const stack = {
    iso,
    operatorToken,
    urls,
    metricsUrls,
    instanceUrls,
    gatewayUrl: "",
    procs,
    /** Everything a process printed (with `keepOutput`), e.g. to assert that no secret was logged. */
    allOutput: (name) => procs.find((p) => p.name === name)?.allOutput() ?? "",
    /** Output tail of one process (for failure messages). */
    output: (name) => procs.find((p) => p.name === name)?.output() ?? "",
    /**
     * Starts one more instance of an already started service, same schema/prefixes/config, on a
     * new port (a second replica sharing Postgres/Redis/NATS). Returns its base URL.
     */
    async startReplica(name) {
      if (!envs[name]) throw new Error(`${name} is not part of this stack`);
      const port = await nextPort();
      const count = procs.filter((p) => p.name.split("#")[0] === name).length;
      const p = launch(
        name,
        { ...envs[name], PORT: String(port), METRICS_PORT: String(await nextPort()) },
        opts.keepOutput,
        opts.nodeArgs?.[name],
      );
      p.name = `${name}#${count + 1}`;
      procs.push(p);
      const url = `http://127.0.0.1:${port}`;
      await waitReady(p, `${url}/readyz`, opts.readyTimeoutMs ?? 45_000);
      return url;
    },
    async stop() {
      await Promise.all(
        procs.map(async (p) => {
          if (p.child.exitCode === null && p.child.signalCode === null) {
            p.child.kill("SIGTERM");
            const timer = setTimeout(() => p.child.kill("SIGKILL"), 8_000);
            await p.exited;
            clearTimeout(timer);
          }
        }),
      );
      await iso.cleanup().catch(() => {});
    },
  };
  try {
    const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    const started = [];
    for (const name of opts.services) instanceUrls[name] = [];
    // Every instance at once: migrations take a per-schema advisory lock, so instances of one
    // service starting together apply them once.
    for (let i = 1; i <= instances; i++) {
      for (const name of opts.services) {
        const port = await nextPort();
        const url = `http://127.0.0.1:${port}`;
        instanceUrls[name].push(url);
        const metricsPort = await nextPort();
        if (i === 1) {
          urls[name] = url;
          metricsUrls[name] = `http://127.0.0.1:${metricsPort}`;
        }
        const env = {
          ...base,
          ...iso.env(name),
          LOG_LEVEL: opts.logLevel ?? process.env.E2E_LOG_LEVEL ?? "warn",
          HOST: "127.0.0.1",
          OPERATOR_TOKEN: operatorToken,
          ...(name === "admin-key" && gatewayPort ? { DASHBOARD_API_URL: `http://127.0.0.1:${gatewayPort}` } : {}),
          ...(opts.env?.[name] ?? {}),
        };
        envs[name] = env;
        const p = launch(name, { ...env, PORT: String(port), METRICS_PORT: String(metricsPort) }, opts.keepOutput, opts.nodeArgs?.[name]);
        if (i > 1) p.name = `${name}#${i}`;
        procs.push(p);
        started.push(waitReady(p, `${url}/readyz`, opts.readyTimeoutMs ?? 45_000));
      }
    }
    if (gatewayPort) {
      const port = gatewayPort;
      stack.gatewayUrl = `http://127.0.0.1:${port}`;
      const env = { ...base, PORT: String(port), HOST: "127.0.0.1", ...(opts.env?.gateway ?? {}) };
      // Services not started point at a closed port, so their paths answer 503 rather than
      // reaching whatever happens to run on the dev ports.
      for (const [svc, v] of Object.entries(GATEWAY_VAR)) env[v] = instanceUrls[svc]?.join(",") ?? `http://127.0.0.1:${await nextPort()}`;
      const p = launch("gateway", env, false, opts.nodeArgs?.gateway);
      procs.push(p);
      started.push(waitReady(p, `${stack.gatewayUrl}/healthz`, 30_000));
    }
    const results = await Promise.allSettled(started);
    const failures = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
    if (failures.length) throw new Error(failures.join("\n\n"));
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** POST /api/v1/organizations with the operator token: `{ organization, keys }`. */
export async function createOrganization(baseUrl, operatorToken, name = "Acme E2E") {
  const res = await fetch(`${baseUrl}/api/v1/organizations`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/v1/organizations answered ${res.status}: ${text}`);
  return JSON.parse(text);
}
