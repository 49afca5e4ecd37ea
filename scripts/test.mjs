#!/usr/bin/env node
// `npm test` after bootstrap: lint, typecheck of src and tests, dead code (knip), then every package's jest suite against the machine's real
// Postgres/Redis/NATS, then a one-line total.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkInfra } from "./infra.mjs";
import { root } from "./services.mjs";

if (!(await checkInfra())) process.exit(1);

// The browser end-to-end tests drive Debian's Chromium, the edge test runs Debian's nginx: install
// them when missing and we may. nginx's package would start a daemon on port 80 where no
// policy-rc.d forbids it (a machine without Docker's), so one forbids it for the installation.
const missingPackages = [
  ["/usr/bin/chromium", "chromium"],
  ["/usr/sbin/nginx", "nginx"],
].filter(([bin]) => !existsSync(bin));
if (missingPackages.length && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
  const names = missingPackages.map(([, pkg]) => pkg).join(" ");
  console.log(`\n▶ installing Debian's ${names} for the end-to-end tests`);
  const guard = existsSync("/usr/sbin/policy-rc.d")
    ? ""
    : "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && trap 'rm -f /usr/sbin/policy-rc.d' EXIT && ";
  spawnSync("bash", ["-c", `${guard}apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${names} >/dev/null`], {
    stdio: "inherit",
  });
}

console.log("\n▶ lint (biome)");
const lint = spawnSync(process.execPath, [path.join(root, "node_modules/@biomejs/biome/bin/biome"), "check", "."], {
  cwd: root,
  stdio: "inherit",
});
if (lint.status !== 0) process.exit(lint.status ?? 1);

// The build (bootstrap) typechecks src; jest (ts-jest, isolated modules) does not typecheck, so
// the tests and src together are checked here, against the built workspace packages.
console.log("\n▶ typecheck (src and tests: tsconfig.test.json)");
const typecheck = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.test.json"], {
  cwd: root,
  stdio: "inherit",
});
if (typecheck.status !== 0) process.exit(typecheck.status ?? 1);

// Dead code and dependencies (knip, knip.json): unused files, exports, dependencies and unlisted ones
// fail the run. Knip loads each service's prisma.config.ts, which reads DATABASE_URL (never connects).
console.log("\n▶ dead code and dependencies (knip)");
const knip = spawnSync(process.execPath, [path.join(root, "node_modules/knip/bin/knip.js")], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
});
if (knip.status !== 0) process.exit(knip.status ?? 1);

const dirs = ["packages", "services", "infra"].flatMap((top) =>
  existsSync(path.join(root, top)) ? readdirSync(path.join(root, top)).map((d) => path.join(root, top, d)) : [],
);
const out = mkdtempSync(path.join(tmpdir(), "authplane-test-"));
let passed = 0;
let failed = 0;
const failedSuites = [];
for (const dir of dirs) {
  if (!existsSync(path.join(dir, "jest.config.js"))) continue;
  const name = path.relative(root, dir);
  console.log(`\n▶ tests: ${name}`);
  const json = path.join(out, `${name.replace(/\W+/g, "_")}.json`);
  const r = spawnSync(
    process.execPath,
    ["--experimental-vm-modules", "--no-warnings", path.join(root, "node_modules/jest/bin/jest.js"), "--json", `--outputFile=${json}`],
    {
      cwd: dir,
      stdio: "inherit",
      env: { ...process.env, NODE_ENV: "test" },
    },
  );
  if (existsSync(json)) {
    const res = JSON.parse(readFileSync(json, "utf8"));
    passed += res.numPassedTests;
    failed += res.numFailedTests;
    if (!res.success) failedSuites.push(name);
    // A suite that crashed before running tests counts as a failure too.
    failed += res.numRuntimeErrorTestSuites ?? 0;
  } else {
    failed += 1;
    failedSuites.push(name);
  }
  if (r.status !== 0 && !failedSuites.includes(name)) failedSuites.push(name);
}
console.log(`\n${failedSuites.length ? `failing: ${failedSuites.join(", ")}\n` : ""}tests: ${passed} passed, ${failed} failed`);
process.exit(failedSuites.length || failed ? 1 : 0);
