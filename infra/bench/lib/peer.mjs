// The side-by-side peer: Better Auth from ../shared/bench/peer-better-auth (read its README).
// Nothing of it is committed here: at bench time its folder is copied to a writable directory
// outside the repository (BENCH_PEER_DIR, default <tmp>/authplane-bench-peer), `npm install` is
// run there once (the npm registry), its database is created if missing, and it is started.
// Its server.mjs hard-codes port 3100 and the database `peer`: the copy run here has both replaced
// (a free port, so two benches or another engineer's peer never collide), nothing else.
import { spawn, execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, root } from "@authplane/e2e/stack";
import { PgClient } from "@authplane/e2e/pg";

const PEER_SOURCE = path.resolve(root, process.env.BENCH_PEER_SOURCE ?? "../shared/bench/peer-better-auth");

function replaceOnce(text, from, to, what) {
  if (!text.includes(from))
    throw new Error(`the peer's server.mjs no longer contains ${JSON.stringify(from)} (${what}): update infra/bench/lib/peer.mjs`);
  return text.split(from).join(to);
}

/** Copies the peer and installs its dependencies (once per copy). Returns the directory. */
function installPeer(log) {
  if (!existsSync(path.join(PEER_SOURCE, "server.mjs"))) throw new Error(`no peer at ${PEER_SOURCE} (set BENCH_PEER_SOURCE)`);
  const dir = process.env.BENCH_PEER_DIR ?? path.join(os.tmpdir(), "authplane-bench-peer");
  const pkg = readFileSync(path.join(PEER_SOURCE, "package.json"), "utf8");
  const installed =
    existsSync(path.join(dir, "node_modules/better-auth/package.json")) && existsSync(path.join(dir, "package.json"))
      ? readFileSync(path.join(dir, "package.json"), "utf8") === pkg
      : false;
  cpSync(PEER_SOURCE, dir, { recursive: true, filter: (src) => !src.includes("node_modules") });
  if (!installed) {
    log(`▶ installing the peer into ${dir} (npm install, once)`);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
  }
  return dir;
}

async function ensureDatabase(databaseUrl, name) {
  const c = new PgClient({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    if (err.code !== "42P04") throw err; // duplicate_database: created by an earlier run
  } finally {
    await c.end();
  }
}

/**
 * Starts the peer on a free port; resolves once it listens. Returns { url, origin, pid, stop, peekOtp }.
 */
export async function startPeer(log, databaseUrl) {
  const dir = installPeer(log);
  const database = process.env.BENCH_PEER_DATABASE ?? "peer";
  await ensureDatabase(databaseUrl, database);
  const port = await freePort();
  let server = readFileSync(path.join(dir, "server.mjs"), "utf8");
  server = replaceOnce(server, "localhost:3100", `localhost:${port}`, "baseURL");
  server = replaceOnce(server, "listen(3100", `listen(${port}`, "port");
  server = replaceOnce(server, "127.0.0.1:5432/peer", `127.0.0.1:5432/${database}`, "database");
  const entry = path.join(dir, "server.bench.mjs");
  writeFileSync(entry, server);
  const child = spawn(process.execPath, [entry], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = [];
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding("utf8");
    s.on("data", (d) => {
      tail.push(...d.split("\n").filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 40));
    });
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the peer exited (${child.exitCode}):\n${tail.join("\n")}`);
    try {
      const r = await fetch(`${url}/api/auth/ok`, { signal: AbortSignal.timeout(2_000) });
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the peer did not answer within 60 s:\n${tail.join("\n")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    origin: `http://localhost:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
    async peekOtp(email) {
      const r = await fetch(`${url}/peek-otp?email=${encodeURIComponent(email)}`);
      return (await r.text()).trim();
    },
  };
}
