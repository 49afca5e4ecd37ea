#!/usr/bin/env node
// `npm start` / `npm test` entry point: bootstraps pnpm (not preinstalled), installs, generates the
// Prisma clients, builds, then hands over to scripts/start.mjs or scripts/test.mjs.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = "10.34.8";
const mode = process.argv[2];

function pnpmCommand() {
  try {
    const v = execFileSync("pnpm", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (v.startsWith("10.")) return ["pnpm", []];
  } catch {
    /* not installed */
  }
  return ["npx", ["--yes", `pnpm@${PNPM_VERSION}`]];
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`\n✖ ${[cmd, ...args].join(" ")} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

const [pnpm, pre] = pnpmCommand();
const p = (...args) => run(pnpm, [...pre, ...args]);
const step = (s) => console.log(`\n▶ ${s}`);

step("installing dependencies (pnpm)");
p("install", existsSync(path.join(root, "pnpm-lock.yaml")) ? "--frozen-lockfile" : "--no-frozen-lockfile", "--reporter=append-only");
step("generating Prisma clients");
p("-r", "--workspace-concurrency=1", "run", "generate");
step("building (tsc -b)");
run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json"]);

// The hand-over runs as a child that gets our SIGINT/SIGTERM: a Ctrl-C in a terminal reaches the
// whole process group anyway, but `kill <npm pid>`, a process manager or a container stop only
// signal us, and the services must still be stopped cleanly rather than orphaned.
const next = mode === "test" ? "test.mjs" : "start.mjs";
const child = spawn(process.execPath, [path.join(root, "scripts", next), ...process.argv.slice(3)], { stdio: "inherit", cwd: root });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
