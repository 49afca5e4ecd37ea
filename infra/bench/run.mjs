#!/usr/bin/env node
// `pnpm bench`: starts admin-key + consumer-auth + the gateway from dist with an isolated env on
// the machine's Postgres/Redis/NATS, creates an organization, then measures with autocannon:
//   POST /api/v1/auth/guest            (Postgres write + outbox + EdDSA sign), direct and via gateway
//   GET  /api/v1/auth/check            (EdDSA verify + revoked-session lookup), direct and via gateway
// and, for the ceiling, a raw Ed25519 verify loop (jose jwtVerify and node:crypto verify) in this
// process. Prints req/s, p50/p99 latency and check ÷ raw-verify ratios.
// The check scenario repeats one token, so it measures consumer-auth's verified-token cache
// (TOKEN_CACHE_*: signature skipped, revocation still checked in Redis on every request).
// Options (env): BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 64), BENCH_ONLY (substring:
// run only the scenarios whose name contains it, and skip the raw-verify ceiling; for quick A/B runs),
// BENCH_CONSUMER_AUTH_ENV (JSON object of extra consumer-auth env, e.g. '{"DATABASE_POOL_SIZE":"20"}').
// Performance targets belong here, never in timed unit tests.
import { createPublicKey, generateKeyPairSync, sign as rawSign, verify as rawVerify } from "node:crypto";
import os from "node:os";
import autocannon from "autocannon";
import { createOrganization, startStack } from "@authplane/e2e/stack";
import { importJWK, jwtVerify, SignJWT } from "jose";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const UNLIMITED = "1000000000";
const ONLY = process.env.BENCH_ONLY ?? "";

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "-";
}

async function load(name, opts) {
  if (ONLY && !name.includes(ONLY)) return null;
  // One second of warm-up (JIT, connection pools), not counted.
  await autocannon({ ...opts, connections: CONNECTIONS, duration: 1 });
  const r = await autocannon({ ...opts, connections: CONNECTIONS, duration: DURATION });
  const ok = r["2xx"];
  const row = {
    name,
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok,
    bad: r.non2xx + r.errors + r.timeouts,
  };
  process.stdout.write(`  ${name.padEnd(34)} ${fmt(row.rps).padStart(8)} req/s   (non-2xx/errors: ${row.bad})\n`);
  return row;
}

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

const limits = {
  RATE_LIMIT_IP_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_GATEWAY_IP_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_KEY_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE: UNLIMITED,
};
console.log(`▶ starting admin-key, consumer-auth and the gateway (isolated schema/prefix/stream)`);
const stack = await startStack({
  services: ["admin-key", "consumer-auth"],
  gateway: true,
  logLevel: "error",
  env: { "admin-key": limits, "consumer-auth": { ...limits, ...JSON.parse(process.env.BENCH_CONSUMER_AUTH_ENV ?? "{}") } },
});
let exitCode = 0;
try {
  const ca = stack.urls["consumer-auth"];
  const gw = stack.gatewayUrl;
  const { keys } = await createOrganization(stack.urls["admin-key"], stack.operatorToken, "Bench");
  const pk = keys.publishable.live;
  const guest = await fetch(`${ca}/api/v1/auth/guest`, { method: "POST", headers: { "x-publishable-key": pk } });
  if (!guest.ok) throw new Error(`POST /api/v1/auth/guest answered ${guest.status}: ${await guest.text()}`);
  const { accessToken } = await guest.json();
  const check = await fetch(`${ca}/api/v1/auth/check`, { headers: { authorization: `Bearer ${accessToken}`, "x-publishable-key": pk } });
  if (check.status !== 200) throw new Error(`GET /api/v1/auth/check answered ${check.status}: ${await check.text()}`);

  console.log(`▶ autocannon: ${CONNECTIONS} connections, ${DURATION} s each (+1 s warm-up)`);
  const guestReq = { method: "POST", headers: { "x-publishable-key": pk } };
  const checkReq = { method: "GET", headers: { authorization: `Bearer ${accessToken}`, "x-publishable-key": pk } };
  const rows = [];
  rows.push(await load("POST /auth/guest (direct)", { url: `${ca}/api/v1/auth/guest`, ...guestReq }));
  rows.push(await load("POST /auth/guest (gateway)", { url: `${gw}/api/v1/auth/guest`, ...guestReq }));
  rows.push(await load("GET /auth/check (direct)", { url: `${ca}/api/v1/auth/check`, ...checkReq }));
  rows.push(await load("GET /auth/check (gateway)", { url: `${gw}/api/v1/auth/check`, ...checkReq }));

  console.log(`▶ raw Ed25519 verify, one thread, ${DURATION} s each`);
  const { joseRate, cryptoRate } = ONLY ? { joseRate: Number.NaN, cryptoRate: Number.NaN } : await rawCeiling(DURATION);

  const cpu = os.cpus();
  console.log(
    `\nauthplane bench — ${new Date().toISOString().slice(0, 10)} — ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, node ${process.version}`,
  );
  console.log(`${CONNECTIONS} connections, ${DURATION} s per row; one process per service; autocannon on the same machine\n`);
  const header = `| ${"what".padEnd(34)} | ${"req/s".padStart(9)} | ${"p50 ms".padStart(7)} | ${"p99 ms".padStart(7)} | ${"non-2xx".padStart(7)} |`;
  console.log(header);
  console.log(`|${"-".repeat(36)}|${"-".repeat(10)}:|${"-".repeat(8)}:|${"-".repeat(8)}:|${"-".repeat(8)}:|`);
  for (const r of rows.filter(Boolean))
    console.log(
      `| ${r.name.padEnd(34)} | ${fmt(r.rps).padStart(9)} | ${fmt(r.p50, 1).padStart(7)} | ${fmt(r.p99, 1).padStart(7)} | ${String(r.bad).padStart(7)} |`,
    );
  console.log(
    `| ${"jose jwtVerify EdDSA (1 thread)".padEnd(34)} | ${fmt(joseRate).padStart(9)} | ${"-".padStart(7)} | ${"-".padStart(7)} | ${"-".padStart(7)} |`,
  );
  console.log(
    `| ${"node:crypto Ed25519 verify".padEnd(34)} | ${fmt(cryptoRate).padStart(9)} | ${"-".padStart(7)} | ${"-".padStart(7)} | ${"-".padStart(7)} |`,
  );
  const direct = rows[2]?.rps ?? 0;
  const viaGw = rows[3]?.rps ?? 0;
  console.log(`\ncheck (direct)  ÷ jose verify/s   = ${fmt(direct / joseRate, 2)}`);
  console.log(`check (gateway) ÷ jose verify/s   = ${fmt(viaGw / joseRate, 2)}`);
  console.log(`check (direct)  ÷ crypto verify/s = ${fmt(direct / cryptoRate, 2)}`);
  console.log(`gateway ÷ direct (check)          = ${fmt(viaGw / direct, 2)}`);
  if (rows.some((r) => r !== null && r.ok === 0)) {
    console.error("\n✖ a scenario had no successful request");
    exitCode = 1;
  }
} catch (err) {
  console.error(`✖ ${err instanceof Error ? err.message : err}`);
  exitCode = 1;
} finally {
  await stack.stop();
}
process.exit(exitCode);
