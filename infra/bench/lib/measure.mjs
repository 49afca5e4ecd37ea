// Measuring one autocannon run: throughput, latency, failures and the CPU each process spent on it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/** Kernel clock ticks per second (utime/stime unit in /proc/<pid>/stat). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) a process has used so far, from /proc; null when it is gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces: fields are counted after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size now and its peak (MB), from /proc/<pid>/status. */
export function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

/** Snapshot of CPU ms of every process in `procs` ({label: pid}). */
export function cpuSnapshot(procs) {
  return Object.fromEntries(Object.entries(procs).map(([label, pid]) => [label, cpuMs(pid)]));
}

/** CPU ms per completed request of each process between two snapshots. */
function cpuPerRequest(before, after, completed) {
  const out = {};
  for (const label of Object.keys(before)) {
    const a = after[label];
    const b = before[label];
    out[label] = a === null || b === null || completed === 0 ? Number.NaN : (a - b) / completed;
  }
  return out;
}

/**
 * One autocannon run with CPU accounting. `opts` are autocannon options (url, method, headers,
 * body, requests, amount, duration); `procs` maps a label to the pid whose CPU is counted.
 */
export async function run(opts, procs, connections) {
  const before = cpuSnapshot(procs);
  const r = await autocannon({ connections, ...opts });
  const after = cpuSnapshot(procs);
  const completed = r["2xx"] + r.non2xx;
  return {
    rps: r["2xx"] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r["2xx"],
    completed,
    // autocannon counts a timeout among the errors too.
    bad: r.non2xx + r.errors,
    // What the failures were: status codes other than 2xx, connection errors, timeouts.
    failures: [
      ...Object.entries(r.statusCodeStats ?? {})
        .filter(([code]) => !code.startsWith("2"))
        .map(([code, { count }]) => `${code}×${count}`),
      ...(r.errors - r.timeouts > 0 ? [`errors×${r.errors - r.timeouts}`] : []),
      ...(r.timeouts > 0 ? [`timeouts×${r.timeouts}`] : []),
    ].join(" "),
    seconds: r.duration,
    cpu: cpuPerRequest(before, after, completed),
  };
}

export function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "-";
}

export function mean(xs) {
  const v = xs.filter(Number.isFinite);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}
