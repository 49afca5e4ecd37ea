#!/usr/bin/env node
// `pnpm bench` — load benchmark of the built services (run `npm run build` first).
//
// Starts admin-key, consumer-auth, otp-delivery, webauthn-credential and the development gateway
// from dist/ with an isolated schema/prefix/stream on the machine's Postgres/Redis/NATS, lifts the
// rate limits for the run, creates an organization, then drives each flow with autocannon
// (64 connections, 10 s) and prints req/s, p50/p99, non-2xx and the CPU milliseconds per request
// of every process (utime + stime from /proc/<pid>/stat before and after each run, divided by the
// completed requests: far steadier than req/s on a shared machine).
//
//   pnpm bench                    our flows only (+ the raw Ed25519 verify ceiling)
//   pnpm bench --peer             side by side with Better Auth (../shared/bench/peer-better-auth):
//                                 each pair interleaved ours/peer/ours/peer in this one run
//   pnpm bench --quick            smoke: 256 requests per run, small prepared pools, one round
//   --duration <s>                seconds per timed run (default 10; BENCH_DURATION)
//   --connections <n>             autocannon connections (default 64; BENCH_CONNECTIONS)
//   --only <a,b>                  only these flows (substring match; BENCH_ONLY)
//   --rounds <n>                  ours/peer rounds per flow (default 2)
//   --direct                      ours straight to the services instead of through the gateway
//   --flood <s>                   length of the otp-flood flow (default 20)
//   --drain-jobs <n>              jobs of the otp-drain flow (default 3000)
//   --cpu-prof <svc,svc>          run these services (or the gateway) with --cpu-prof (./bench-profiles/)
//   --node-args "<flags>"         extra node/V8 flags for every service (A/B runs), e.g. "--max-semi-space-size=8"
//   BENCH_CONSUMER_AUTH_ENV='{"DATABASE_POOL_SIZE":"20"}'   extra consumer-auth env (A/B runs)
//   BENCH_OTP_DELIVERY_ENV='{"DELIVERY_CONCURRENCY":"8"}'   extra otp-delivery env
//
// Flows (ours vs the peer's counterpart; see infra/README.md "Benchmark"):
//   guest         POST /api/v1/auth/guest               vs POST /api/auth/sign-in/anonymous
//   check         GET  /api/v1/auth/check               vs GET  /api/auth/get-session (Bearer)
//   otp-request   POST /api/v1/auth/otp/request         vs POST /api/auth/email-otp/send-verification-otp
//   refresh       POST /api/v1/auth/refresh             vs GET  /api/auth/token (issues an EdDSA JWT)
//   otp-verify    POST /api/v1/auth/otp/verify          vs POST /api/auth/sign-in/email-otp
//   passkey-verify POST /auth/verify (atn_ tokens)      ours only: the peer has no passkey plugin
//   nginx-check   POST /api/v1/queues/bench/enter through nginx: auth_request → /check, then the
//                 example API (infra/nginx); ours only, when an nginx binary and infra/nginx exist
//   otp-flood     OTP requests for --flood seconds, then: accepted/s vs delivered/s, time to drain
//   otp-drain     --drain-jobs sealed jobs published straight to JetStream: otp-delivery's own rate
// Single-use credentials (refresh tokens, OTP codes, atn_ tokens) are prepared before each timed run.
// Performance targets belong here, never in timed unit tests.
import { createPublicKey, generateKeyPairSync, sign as rawSign, verify as rawVerify } from "node:crypto";
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createOrganization, root, startStack, UNLIMITED_RATE_LIMITS } from "@authplane/e2e/stack";
import { importJWK, jwtVerify, SignJWT } from "jose";
import { fmt, mean, memoryMb, run } from "./lib/measure.mjs";
import { nginxEdge } from "./lib/nginx.mjs";
import { drainOtp } from "./lib/otp-drain.mjs";
import { floodOtp } from "./lib/otp-flood.mjs";
import { preparePasskeyTokens, setUpPasskeys } from "./lib/passkey.mjs";
import { startPeer } from "./lib/peer.mjs";

const { values: args } = parseArgs({
  options: {
    peer: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    direct: { type: "boolean", default: false },
    duration: { type: "string" },
    connections: { type: "string" },
    only: { type: "string" },
    rounds: { type: "string" },
    flood: { type: "string" },
    "cpu-prof": { type: "string" },
    "node-args": { type: "string" },
    "drain-jobs": { type: "string" },
  },
});
const QUICK = args.quick;
const DURATION = Number(args.duration ?? process.env.BENCH_DURATION ?? (QUICK ? 2 : 10));
const CONNECTIONS = Number(args.connections ?? process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 2));
const FLOOD_SECONDS = Number(args.flood ?? (QUICK ? 3 : 20));
const DRAIN_JOBS = Number(args["drain-jobs"] ?? (QUICK ? 300 : 3000));
const WARMUP = 1;
const STARTED = new Date().toISOString().replace(/[:.]/g, "-");
/** Requests per run in --quick mode (instead of a duration). */
const QUICK_AMOUNT = 256;
const ONLY = (args.only ?? process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
/** Single-use credentials prepared per timed run of the fixed-amount flows (OTP verify, passkey). */
const POOL = QUICK ? 300 : Number(process.env.BENCH_POOL ?? 3000);
const WARMUP_POOL = QUICK ? 64 : 300;
const UNLIMITED = "1000000000";
const log = (s) => process.stdout.write(`${s}\n`);
const selected = (name) => ONLY.length === 0 || ONLY.some((o) => name.includes(o));
for (const [k, v] of Object.entries({ duration: DURATION, connections: CONNECTIONS, rounds: ROUNDS, flood: FLOOD_SECONDS }))
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${k} must be a positive number`);

function commit() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

// --- the stack -------------------------------------------------------------------------------------

const wantPasskey = selected("passkey-verify");
const PROFILED = (args["cpu-prof"] ?? "").split(",").filter(Boolean);
const EXTRA_NODE_ARGS = (args["node-args"] ?? "").split(" ").filter(Boolean);
const services = ["admin-key", "consumer-auth", "otp-delivery", ...(wantPasskey ? ["webauthn-credential"] : [])];
log(`▶ ${new Date().toISOString()} — commit ${commit()} — load average ${load()}`);
log(`▶ starting ${services.join(", ")} and the gateway (isolated schema/prefix/stream)`);
const stack = await startStack({
  services,
  gateway: true,
  logLevel: "error",
  // Starting five processes on a shared, loaded 2-core machine can take a while.
  readyTimeoutMs: 180_000,
  nodeArgs: Object.fromEntries(
    [...services, "gateway"].map((svc) => [
      svc,
      [
        ...(services.includes(svc) ? EXTRA_NODE_ARGS : []),
        // node does not expand placeholders in --cpu-prof-name: the start time keeps runs apart.
        ...(PROFILED.includes(svc)
          ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve("bench-profiles")}`, `--cpu-prof-name=${svc}-${STARTED}.cpuprofile`]
          : []),
      ],
    ]),
  ),
  env: {
    "admin-key": UNLIMITED_RATE_LIMITS,
    "consumer-auth": { ...UNLIMITED_RATE_LIMITS, ...JSON.parse(process.env.BENCH_CONSUMER_AUTH_ENV ?? "{}") },
    // Codes must stay in the dev outbox until the verify runs read them: no pruning during the run.
    "otp-delivery": {
      RETENTION_INTERVAL_SECONDS: "0",
      DEV_OUTBOX_MAX_MESSAGES: UNLIMITED,
      ...JSON.parse(process.env.BENCH_OTP_DELIVERY_ENV ?? "{}"),
    },
    "webauthn-credential": UNLIMITED_RATE_LIMITS,
  },
});
let peer = null;
let nginx = null;
let exitCode = 0;
const cleanups = [];
try {
  const ours = {};
  for (const p of stack.procs) ours[p.name] = p.child.pid;
  const base = args.direct ? null : stack.gatewayUrl;
  const ca = base ?? stack.urls["consumer-auth"];
  const od = stack.urls["otp-delivery"];
  const { organization, keys } = await createOrganization(stack.urls["admin-key"], stack.operatorToken, "Bench");
  const pk = keys.publishable.live;

  if (args.peer) {
    peer = await startPeer(log, stack.iso.databaseUrl);
    cleanups.push(() => peer.stop());
    log(`▶ peer (Better Auth) at ${peer.url}`);
  }

  // --- helpers ----------------------------------------------------------------------------------

  async function call(url, init = {}) {
    const res = await fetch(url, init);
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, text, json };
  }
  async function mustCall(what, url, init) {
    const r = await call(url, init);
    if (r.status < 200 || r.status > 299) throw new Error(`${what} answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r;
  }
  /** Runs `fn` over `items` with `n` at a time. */
  async function pool(items, n, fn) {
    const out = new Array(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(n, items.length) }, async () => {
        while (next < items.length) {
          const i = next++;
          out[i] = await fn(items[i], i);
        }
      }),
    );
    return out;
  }
  const json = (o) => JSON.stringify(o);
  const ourHeaders = { "x-publishable-key": pk, "content-type": "application/json" };
  const peerHeaders = () => ({ origin: peer.origin, "content-type": "application/json" });
  let seq = 0;
  const runId = Date.now().toString(36);
  const uniqueEmail = (side) => `${side}-${runId}-${seq++}@bench.example`;

  /** Hands out prepared single-use values to autocannon requests, one per request. */
  function queueRequests(items, build) {
    let i = 0;
    return {
      amount: items.length,
      requests: [{ setupRequest: (req) => ({ ...req, ...build(items[Math.min(i++, items.length - 1)]) }) }],
    };
  }

  async function ourGuest() {
    const r = await mustCall("POST /api/v1/auth/guest", `${ca}/api/v1/auth/guest`, {
      method: "POST",
      headers: { "x-publishable-key": pk },
    });
    return r.json;
  }
  async function peerAnonymous() {
    const r = await mustCall("peer sign-in/anonymous", `${peer.url}/api/auth/sign-in/anonymous`, {
      method: "POST",
      headers: peerHeaders(),
      body: "{}",
    });
    const token = r.headers.get("set-auth-token");
    if (!token) throw new Error("the peer's anonymous sign-in answered without set-auth-token");
    return token;
  }
  async function ourOtpPairs(n) {
    const emails = Array.from({ length: n }, () => uniqueEmail("o"));
    await pool(emails, 16, (email) =>
      mustCall("POST /api/v1/auth/otp/request", `${ca}/api/v1/auth/otp/request`, {
        method: "POST",
        headers: ourHeaders,
        body: json({ email }),
      }),
    );
    // The codes, as a developer reads them: the dev outbox (waiting for the delivery).
    return pool(emails, 16, async (email) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const r = await mustCall("GET /dev/outbox", `${od}/dev/outbox?to=${encodeURIComponent(email)}`);
        const code = r.json.messages[0]?.code;
        if (code) return { email, code };
        if (Date.now() > deadline) throw new Error(`no OTP delivered to ${email} within 120 s`);
        await new Promise((res) => setTimeout(res, 200));
      }
    });
  }
  async function peerOtpPairs(n) {
    const emails = Array.from({ length: n }, () => uniqueEmail("p"));
    return pool(emails, 16, async (email) => {
      await mustCall("peer send-verification-otp", `${peer.url}/api/auth/email-otp/send-verification-otp`, {
        method: "POST",
        headers: peerHeaders(),
        body: json({ email, type: "sign-in" }),
      });
      const code = await peer.peekOtp(email);
      if (!code) throw new Error(`the peer kept no OTP for ${email}`);
      return { email, code };
    });
  }

  // --- flows ------------------------------------------------------------------------------------
  // Each side returns autocannon options for one run (called again for every run, so single-use
  // credentials are fresh); `warmup` asks for the short, uncounted warm-up run.

  /** Refresh tokens rotate: every answer's new token goes back to the pool for a later request. */
  async function refreshChains() {
    const sessions = await pool(Array.from({ length: CONNECTIONS * 2 }), 16, () => ourGuest());
    const tokens = sessions.map((s) => s.refreshToken);
    return {
      method: "POST",
      headers: ourHeaders,
      requests: [
        {
          setupRequest: (req) => ({ ...req, body: json({ refreshToken: tokens.shift() ?? "rt_pool_empty" }) }),
          onResponse: (status, body) => {
            if (status === 200) tokens.push(JSON.parse(body).refreshToken);
          },
        },
      ],
    };
  }

  const flows = [
    {
      name: "guest",
      title: "guest session vs anonymous sign-in",
      ours: async () => ({ url: `${ca}/api/v1/auth/guest`, method: "POST", headers: { "x-publishable-key": pk } }),
      peer: async () => ({ url: `${peer.url}/api/auth/sign-in/anonymous`, method: "POST", headers: peerHeaders(), body: "{}" }),
    },
    {
      name: "check",
      title: "token check vs get-session",
      // One token repeated: measures consumer-auth's verified-token cache (revocation still checked).
      ours: async () => {
        const { accessToken } = await ourGuest();
        await mustCall("GET /api/v1/auth/check", `${ca}/api/v1/auth/check`, {
          headers: { authorization: `Bearer ${accessToken}`, "x-publishable-key": pk },
        });
        return { url: `${ca}/api/v1/auth/check`, headers: { authorization: `Bearer ${accessToken}`, "x-publishable-key": pk } };
      },
      peer: async () => {
        const token = await peerAnonymous();
        const probe = await mustCall("peer get-session", `${peer.url}/api/auth/get-session`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (!probe.json?.session) throw new Error(`the peer's get-session did not find the session: ${probe.text.slice(0, 200)}`);
        return { url: `${peer.url}/api/auth/get-session`, headers: { authorization: `Bearer ${token}` } };
      },
    },
    {
      name: "otp-request",
      title: "OTP request (unique emails) vs OTP send",
      ours: async () => ({
        url: `${ca}/api/v1/auth/otp/request`,
        method: "POST",
        headers: ourHeaders,
        requests: [{ setupRequest: (req) => ({ ...req, body: json({ email: uniqueEmail("o") }) }) }],
      }),
      peer: async () => ({
        url: `${peer.url}/api/auth/email-otp/send-verification-otp`,
        method: "POST",
        headers: peerHeaders(),
        requests: [{ setupRequest: (req) => ({ ...req, body: json({ email: uniqueEmail("p"), type: "sign-in" }) }) }],
      }),
    },
    {
      name: "refresh",
      title: "refresh vs token issue (JWT)",
      ours: async () => ({ url: `${ca}/api/v1/auth/refresh`, ...(await refreshChains()) }),
      peer: async () => {
        const token = await peerAnonymous();
        await mustCall("peer /token", `${peer.url}/api/auth/token`, { headers: { authorization: `Bearer ${token}` } });
        return { url: `${peer.url}/api/auth/token`, headers: { authorization: `Bearer ${token}` } };
      },
    },
    {
      name: "otp-verify",
      title: "OTP verify (sign-in)",
      fixedAmount: true,
      ours: async ({ warmup }) => {
        const pairs = await ourOtpPairs(warmup ? WARMUP_POOL : POOL);
        return {
          url: `${ca}/api/v1/auth/otp/verify`,
          method: "POST",
          headers: ourHeaders,
          ...queueRequests(pairs, (p) => ({ body: json(p) })),
        };
      },
      peer: async ({ warmup }) => {
        const pairs = await peerOtpPairs(warmup ? WARMUP_POOL : POOL);
        return {
          url: `${peer.url}/api/auth/sign-in/email-otp`,
          method: "POST",
          headers: peerHeaders(),
          ...queueRequests(pairs, (p) => ({ body: json({ email: p.email, otp: p.code }) })),
        };
      },
    },
    {
      name: "passkey-verify",
      title: "passkey /auth/verify (atn_ tokens)",
      fixedAmount: true,
      oursOnly: "the peer has no passkey plugin",
      setUp: async () => {
        const wa = base ?? stack.urls["webauthn-credential"];
        return setUpPasskeys({
          adminKeyUrl: stack.urls["admin-key"],
          webauthnUrl: wa,
          keys,
          organization,
          operatorToken: stack.operatorToken,
        });
      },
      ours: async ({ warmup, state }) => {
        const tokens = await preparePasskeyTokens(state, warmup ? WARMUP_POOL : POOL);
        return {
          url: `${state.webauthnUrl}/auth/verify`,
          method: "POST",
          headers: state.serverHeaders,
          ...queueRequests(tokens, (token) => ({ body: json({ token }) })),
        };
      },
    },
    {
      name: "nginx-check",
      title: "token check through nginx auth_request",
      oursOnly: "nginx in front of consumer-auth",
      setUp: async () => {
        nginx = await nginxEdge({ consumerAuthUrl: stack.urls["consumer-auth"], adminKeyUrl: stack.urls["admin-key"], log });
        if (!nginx) return null;
        cleanups.push(() => nginx.stop());
        ours.nginx = nginx.pid;
        return nginx;
      },
      ours: async ({ state }) => {
        const { accessToken } = await ourGuest();
        const headers = { authorization: `Bearer ${accessToken}`, "x-publishable-key": pk };
        await mustCall("nginx auth_request", `${state.url}${state.protectedPath}`, { method: state.method, headers });
        return { url: `${state.url}${state.protectedPath}`, method: state.method, headers };
      },
    },
  ];

  const results = [];
  for (const flow of flows) {
    if (!selected(flow.name)) continue;
    let state;
    if (flow.setUp) {
      state = await flow.setUp();
      if (state === null) {
        results.push({ flow, skipped: "nginx binary or infra/nginx config not found" });
        log(`  ${flow.name}: skipped (nginx binary or infra/nginx config not found)`);
        continue;
      }
    }
    const sides = args.peer && flow.peer ? ["ours", "peer"] : ["ours"];
    const runs = { ours: [], peer: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of sides) {
        const procs = side === "ours" ? ours : { peer: peer.pid };
        const make = flow[side];
        // Quick mode sends a fixed number of requests instead: on a loaded machine a 2 s run may
        // complete none, and a smoke run must show each flow answering 2xx.
        const timing = flow.fixedAmount ? {} : QUICK ? { amount: QUICK_AMOUNT } : { duration: DURATION };
        const warmupTiming = flow.fixedAmount ? {} : QUICK ? { amount: CONNECTIONS } : { duration: WARMUP };
        await run({ ...(await make({ warmup: true, state })), ...warmupTiming }, {}, CONNECTIONS);
        const opts = { ...(await make({ warmup: false, state })), ...timing };
        const r = await run(opts, procs, CONNECTIONS);
        r.load = os.loadavg()[0];
        runs[side].push(r);
        const cpu = Object.values(r.cpu).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
        log(
          `  ${flow.name.padEnd(15)} ${side.padEnd(4)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 1)} ms  p99 ${fmt(r.p99, 1)} ms  non-2xx ${r.bad}${r.failures ? ` (${r.failures})` : ""}  CPU ${fmt(cpu, 2)} ms/req  (load ${r.load.toFixed(2)})`,
        );
      }
    }
    results.push({ flow, runs });
  }

  let flood = null;
  if (selected("otp-flood")) {
    log(`▶ otp-flood: ${CONNECTIONS} connections of OTP requests for ${FLOOD_SECONDS} s, then until every accepted request is delivered`);
    flood = await floodOtp({
      url: `${ca}/api/v1/auth/otp/request`,
      headers: ourHeaders,
      email: () => uniqueEmail("f"),
      seconds: FLOOD_SECONDS,
      connections: CONNECTIONS,
      databaseUrl: stack.iso.databaseUrl,
      schema: stack.iso.schema("otp-delivery"),
      metricsUrls: {
        "consumer-auth": `${stack.metricsUrls["consumer-auth"]}/metrics`,
        "otp-delivery": `${stack.metricsUrls["otp-delivery"]}/metrics`,
      },
      procs: ours,
      log,
    });
  }

  let drain = null;
  if (selected("otp-drain")) {
    log(`▶ otp-drain: ${DRAIN_JOBS} delivery jobs straight to JetStream, otp-delivery alone`);
    drain = await drainOtp({ iso: stack.iso, schema: stack.iso.schema("otp-delivery"), jobs: DRAIN_JOBS, pid: ours["otp-delivery"], log });
  }

  let ceiling = null;
  if (!args.peer && ONLY.length === 0 && !QUICK) {
    log(`▶ raw Ed25519 verify, one thread, ${DURATION} s each`);
    ceiling = await rawCeiling(DURATION);
  }

  // --- report -----------------------------------------------------------------------------------
  const cpu = os.cpus();
  log(
    `\nauthplane bench — ${new Date().toISOString()} — commit ${commit()} — ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, node ${process.version}`,
  );
  log(
    `${CONNECTIONS} connections, ${QUICK ? `${QUICK_AMOUNT} requests` : `${DURATION} s`} per timed run (single-use flows: ${POOL} prepared requests), ${ROUNDS} round(s)${args.peer ? " ours/peer interleaved" : ""}; ours ${args.direct ? "direct" : "through the development gateway"}; load average (1/5/15 min) now ${load()}\n`,
  );
  const sum = (cpuMap) => Object.values(cpuMap).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const agg = (rs) => ({
    rps: mean(rs.map((r) => r.rps)),
    p50: mean(rs.map((r) => r.p50)),
    p99: mean(rs.map((r) => r.p99)),
    bad: rs.reduce((a, r) => a + r.bad, 0),
    cpu: mean(rs.map((r) => sum(r.cpu))),
    each: rs.map((r) => fmt(r.rps)).join(" / "),
    load: mean(rs.map((r) => r.load)),
  });
  log(
    "| flow | ours req/s (runs) | p50 / p99 ms | non-2xx | CPU ms/req | peer req/s (runs) | p50 / p99 ms | non-2xx | CPU ms/req | req/s ratio | CPU ratio | load |",
  );
  log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const { flow, runs, skipped } of results) {
    if (skipped) {
      log(`| ${flow.title} | skipped: ${skipped} | | | | | | | | | | |`);
      continue;
    }
    const o = agg(runs.ours);
    const p = runs.peer.length ? agg(runs.peer) : null;
    const peerCols = p
      ? `${fmt(p.rps)} (${p.each}) | ${fmt(p.p50, 0)} / ${fmt(p.p99, 0)} | ${p.bad} | ${fmt(p.cpu, 2)} | ${fmt(o.rps / p.rps, 1)}× | ${fmt(p.cpu / o.cpu, 1)}×`
      : `– (${flow.oursOnly ?? "not run"}) | | | | |`;
    log(
      `| ${flow.title} | ${fmt(o.rps)} (${o.each}) | ${fmt(o.p50, 0)} / ${fmt(o.p99, 0)} | ${o.bad} | ${fmt(o.cpu, 2)} | ${peerCols} | ${fmt(mean([o.load, p?.load ?? Number.NaN]), 1)} |`,
    );
  }
  log("\nCPU ms per request by process (mean of the runs; ours, then the peer):\n");
  const labels = [...Object.keys(ours), ...(peer ? ["peer"] : [])];
  log(`| flow | ${labels.join(" | ")} |`);
  log(`|---|${labels.map(() => "---:").join("|")}|`);
  for (const { flow, runs, skipped } of results) {
    if (skipped) continue;
    const cols = labels.map((l) => {
      const rs = l === "peer" ? runs.peer : runs.ours;
      return fmt(mean(rs.map((r) => r.cpu[l])), 3);
    });
    log(`| ${flow.name} | ${cols.join(" | ")} |`);
  }
  if (flood) {
    log(`\n| otp-flood (${FLOOD_SECONDS} s of requests) | value |`);
    log("|---|---:|");
    for (const [k, v] of flood.rows) log(`| ${k} | ${v} |`);
  }
  if (drain) {
    log(`\n| otp-drain | value |`);
    log("|---|---:|");
    for (const [k, v] of drain.rows) log(`| ${k} | ${v} |`);
  }
  if (ceiling) {
    log(`\n| raw verify, 1 thread | verifications/s |`);
    log("|---|---:|");
    log(`| jose jwtVerify EdDSA | ${fmt(ceiling.joseRate)} |`);
    log(`| node:crypto Ed25519 verify | ${fmt(ceiling.cryptoRate)} |`);
  }
  const mem = [...Object.entries(ours), ...(peer ? [["peer", peer.pid]] : [])].map(([l, pid]) => `${l} ${fmt(memoryMb(pid).peak)}`);
  log(`\npeak resident memory (MB): ${mem.join(", ")}`);
  if (results.some((r) => r.runs && [...r.runs.ours, ...r.runs.peer].some((x) => x.ok === 0))) {
    log("\n✖ a run had no successful request");
    exitCode = 1;
  }
  if ((flood && !flood.drained) || (drain && !drain.drained)) exitCode = 1;
} catch (err) {
  console.error(`✖ ${err instanceof Error ? (err.stack ?? err.message) : err}`);
  exitCode = 1;
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await stack.stop();
}
process.exit(exitCode);

// --- the raw verify ceiling ------------------------------------------------------------------------

/** Verifies the same token in a tight loop for `seconds`; returns verifications per second. */
async function verifyLoop(fn, seconds) {
  const end = performance.now() + 300;
  while (performance.now() < end) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  const stop = start + seconds * 1000;
  while (performance.now() < stop) {
    for (let i = 0; i < 200; i++) await fn();
    n += 200;
  }
  return n / ((performance.now() - start) / 1000);
}

async function rawCeiling(seconds) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  const token = await new SignJWT({ consumerId: "cons_bench", organizationId: "org_bench", sessionId: "sess_bench" })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: "bench" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  const key = await importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA");
  const joseRate = await verifyLoop(() => jwtVerify(token, key, { algorithms: ["EdDSA"] }), seconds);
  const data = Buffer.from("x".repeat(300));
  const sig = rawSign(null, data, privateKey);
  const pub = createPublicKey(publicKey.export({ format: "pem", type: "spki" }));
  const cryptoRate = await verifyLoop(() => rawVerify(null, data, pub, sig), seconds);
  return { joseRate, cryptoRate };
}
