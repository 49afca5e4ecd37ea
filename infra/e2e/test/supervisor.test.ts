/**
 * `npm start` keeps the stack up when one service crashes: scripts/supervisor.mjs restarts the
 * crashed process with a backoff and says so. Real child processes, killed for real.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { supervise } from "../../../scripts/supervisor.mjs";

const alive = (c: ChildProcess | null) => !!c && c.exitCode === null && c.signalCode === null;

async function until<T>(fn: () => T | undefined | null | false, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a killed child is started again and the restart is announced; stop() stops it for good", async () => {
  const lines: string[] = [];
  const sup = supervise({
    name: "consumer-auth",
    start: () => spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }),
    log: (l) => lines.push(l),
    minBackoffMs: 50,
  });
  const first = await until(() => (alive(sup.child) ? sup.child : null), "the first child");
  first?.kill("SIGKILL");
  const second = await until(() => (alive(sup.child) && sup.child !== first ? sup.child : null), "a restarted child");
  expect(second?.pid).not.toBe(first?.pid);
  expect(lines[0]).toBe("✖ consumer-auth exited (SIGKILL); restarting it in 50 ms (restart 1)");
  expect(lines[1]).toBe(`↻ consumer-auth restarted (pid ${second?.pid})`);
  await sup.stop();
  expect(alive(second)).toBe(false);
  expect(sup.child).toBeNull();
  expect(sup.restarts).toBe(1);
});

test("a child that keeps crashing is restarted with a doubling backoff, capped", async () => {
  const lines: string[] = [];
  const sup = supervise({
    name: "otp-delivery",
    start: () => spawn(process.execPath, ["-e", "process.exit(3)"], { stdio: "ignore" }),
    log: (l) => lines.push(l),
    minBackoffMs: 20,
    maxBackoffMs: 80,
  });
  await until(() => sup.restarts >= 5, "five restarts");
  await sup.stop();
  const delays = lines.filter((l) => l.startsWith("✖")).map((l) => /restarting it in (\d+) ms/.exec(l)?.[1]);
  expect(delays.slice(0, 5)).toEqual(["20", "40", "80", "80", "80"]);
  expect(lines[0]).toContain("otp-delivery exited (3)");
});
