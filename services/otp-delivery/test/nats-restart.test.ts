import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PgPool } from "@authplane/service-kit";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import type { RunningService } from "../src/testing.js";
import { startTestOtpDelivery } from "../src/testing.js";
import { connectTestNats, deliveries, ensureOtpStream, fastDelivery, otpJob, publishJob, type TestNats, testPool } from "./support/jobs.js";

// This file runs its OWN nats-server (the machine's shared one must never be restarted by a test).
const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const iso = createTestIsolation();
const storeDir = mkdtempSync(path.join(tmpdir(), "otp-delivery-nats-"));
let port = 0;
let natsProcess: ChildProcess | null = null;
let nats: TestNats;
let service: RunningService;
let pool: PgPool;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", () => resolve()));
  const p = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return p;
}

async function startNats(): Promise<void> {
  natsProcess = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: "ignore" });
  await eventually(
    async () => {
      const probe = await connectTestNats(`nats://127.0.0.1:${port}`);
      await probe.close();
      return true;
    },
    10_000,
    100,
  );
}

async function killNats(): Promise<void> {
  const child = natsProcess;
  natsProcess = null;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startNats();
  const url = `nats://127.0.0.1:${port}`;
  nats = await connectTestNats(url);
  await ensureOtpStream(nats.nc, iso.subjects);
  service = await startTestOtpDelivery({ ...iso.env("otp-delivery"), ...fastDelivery(), NATS_URL: url });
  pool = testPool(iso);
}, 30_000);

afterAll(async () => {
  await service?.stop();
  await killNats();
  await pool?.end();
  await nats?.close().catch(() => {});
  await iso.cleanup();
  rmSync(storeDir, { recursive: true, force: true });
});

test("NATS killed (-9) and restarted mid-run: every job whose publish was acknowledged is delivered exactly once", async () => {
  const total = 60;
  const acked: string[] = [];
  let refused = 0;
  const killAt = 20;
  let restarted: Promise<void> | null = null;
  for (let i = 0; i < total; i++) {
    if (i === killAt) {
      await killNats();
      // Back after a while, while the publisher keeps trying (same store: acknowledged jobs survive).
      restarted = new Promise((r) => setTimeout(r, 1_500)).then(startNats);
    }
    const job = otpJob({ to: `restart-${i}@example.com` });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await publishJob(nats.js, iso.subjects, job);
        acked.push(job.data.to);
        break;
      } catch (err) {
        refused += 1;
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await restarted;
  expect(acked).toHaveLength(total);
  expect(refused).toBeGreaterThan(0); // the outage was real: publishes failed until NATS came back

  const counts = async () => {
    const { rows } = await pool.query<{ to: string; n: string }>(`SELECT "to", count(*) AS n FROM "dev_messages" GROUP BY "to"`);
    return new Map(rows.map((r) => [r.to, Number(r.n)]));
  };
  await eventually(async () => (await counts()).size === acked.length, 40_000, 200);
  await new Promise((r) => setTimeout(r, 2_000));
  const final = await counts();
  for (const to of acked) expect(final.get(to)).toBe(1);
  expect(final.size).toBe(acked.length);
  const rows = await deliveries(pool);
  expect(rows).toHaveLength(acked.length);
  expect(rows.every((r) => r.status === "sent")).toBe(true);
}, 90_000);
