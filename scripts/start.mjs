#!/usr/bin/env node
// Runs migrations, ensures the development organization, then runs every service and the gateway
// on http://localhost:8080. A service that crashes is restarted (with a backoff, announced in the
// output); Ctrl-C stops everything cleanly.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkInfra } from "./infra.mjs";
import { GATEWAY, root, SERVICES, TRACING_PRELOAD } from "./services.mjs";
import { supervise } from "./supervisor.mjs";

if (!(await checkInfra())) process.exit(1);

// One operator token for every service (admin-key's operator API and the Admin API endpoints of
// consumer-auth, webauthn-credential and otp-delivery that the dashboard calls): the development
// default unless OPERATOR_TOKEN is set (each service refuses the default in production).
const operatorToken = process.env.OPERATOR_TOKEN ?? "dev-operator-token";
const baseEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "development", OPERATOR_TOKEN: operatorToken };
for (const s of SERVICES) {
  const r = spawnSync(process.execPath, ["dist/migrate.js"], { cwd: s.dir, stdio: "inherit", env: baseEnv });
  if (r.status !== 0) {
    console.error(`✖ migrations of ${s.name} failed`);
    process.exit(1);
  }
}

const devFile = path.join(root, ".dev", "dev-org.json");
if (SERVICES.some((s) => s.name === "admin-key")) {
  const r = spawnSync(process.execPath, ["dist/cli.js", "dev-org", "--file", devFile], {
    cwd: path.join(root, "services", "admin-key"),
    stdio: ["ignore", "ignore", "inherit"],
    env: baseEnv,
  });
  if (r.status !== 0) {
    console.error("✖ could not prepare the development organization");
    process.exit(1);
  }
}

// The passkey demo page plays "the customer's server" with the development org's test keys.
let devOrg = null;
try {
  devOrg = JSON.parse(readFileSync(devFile, "utf8"));
} catch {
  /* admin-key not present */
}
const perServiceEnv = {
  // The dashboard (/dashboard/) calls the other services' Admin API through the gateway.
  "admin-key": { DASHBOARD_API_URL: `http://127.0.0.1:${GATEWAY.port}` },
  "webauthn-credential": devOrg ? { DEMO_PUBLISHABLE_KEY: devOrg.keys.publishable.test, DEMO_SECRET_KEY: devOrg.keys.secret.test } : {},
  // The consumer demo page starts with the development organization's publishable test key.
  "consumer-auth": devOrg ? { DEMO_PUBLISHABLE_KEY: devOrg.keys.publishable.test } : {},
};

// Each service (and the gateway) runs under a supervisor: one that crashes is restarted with a
// backoff, and the restart is announced, while the others keep running (scripts/supervisor.mjs).
const supervised = new Map();
let stopping = false;
const colors = [36, 35, 33, 32, 34, 31];
// Fixed development metrics ports (/metrics is not on the public port): 9464 + the service's
// index, e.g. http://127.0.0.1:9465/metrics for consumer-auth.
const METRICS_BASE_PORT = 9464;
// (METRICS_PORT_BASE moves the whole range.)
function launch(svc, i, extraEnv = {}) {
  const tag = `\x1b[${colors[i % colors.length]}m${svc.name.padEnd(20)}\x1b[0m│ `;
  const start = () => {
    const child = spawn(process.execPath, ["--import", TRACING_PRELOAD, "dist/main.js"], {
      cwd: svc.dir,
      env: { ...baseEnv, PORT: String(svc.port), ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buf = "";
      stream.on("data", (d) => {
        buf += d;
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          process.stdout.write(tag + buf.slice(0, nl) + "\n");
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
        }
      });
    }
    return child;
  };
  supervised.set(svc.name, supervise({ name: svc.name, start, log: (line) => process.stderr.write(`${tag}${line}\n`) }));
}

let exitCode = 0;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  console.log("\nstopping services…");
  await Promise.all([...supervised.values()].map((s) => s.stop("SIGTERM")));
  process.exit(exitCode);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

for (const [i, s] of SERVICES.entries())
  launch(s, i, { METRICS_PORT: String(Number(process.env.METRICS_PORT_BASE ?? METRICS_BASE_PORT) + i), ...(perServiceEnv[s.name] ?? {}) });
launch(
  GATEWAY,
  SERVICES.length,
  Object.fromEntries(SERVICES.map((s) => [`${s.name.toUpperCase().replace(/-/g, "_")}_URL`, `http://127.0.0.1:${s.port}`])),
);

// Wait for every service to be ready, then print the development keys.
const deadline = Date.now() + 60_000;
for (const s of [...SERVICES, GATEWAY]) {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/${s === GATEWAY ? "healthz" : "readyz"}`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      console.error(`✖ ${s.name} did not become ready within 60 s`);
      stop(1);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
if (!stopping) {
  let keys = "";
  const dev = devOrg;
  if (dev) {
    keys = `
  Development organization: ${dev.organization.name} (${dev.organization.id})
    publishable (test): ${dev.keys.publishable.test}
    secret      (test): ${dev.keys.secret.test}
                        secret_${dev.keys.secret.test}   (the same key, as the passkey server SDKs take it)
    publishable (live): ${dev.keys.publishable.live}
    secret      (live): ${dev.keys.secret.live}
                        secret_${dev.keys.secret.live}   (the same key, as the passkey server SDKs take it)
  Operator token: ${operatorToken}   (kept in ${path.relative(root, devFile)}, development only)
  Passkey demo: http://localhost:${GATEWAY.port}/demo/
  Consumer SDK demo: http://localhost:${GATEWAY.port}/demo/consumer/
  Console: http://localhost:${GATEWAY.port}/dashboard/   (sign in with the operator token)`;
  }
  console.log(`
  ✔ Gateway ready on http://localhost:${GATEWAY.port}  (${SERVICES.map((s) => `${s.name}:${s.port}`).join(", ")})
    metrics: ${SERVICES.map((_s, i) => `http://127.0.0.1:${Number(process.env.METRICS_PORT_BASE ?? METRICS_BASE_PORT) + i}/metrics`).join("  ")}${keys}

  Try:  curl -X POST http://localhost:8080/api/v1/auth/guest -H "X-Publishable-Key: <publishable test key>"
  A service that crashes is restarted with a backoff. Ctrl-C stops everything.
`);
}
