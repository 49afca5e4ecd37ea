// Keeps one child process running for `npm start`: when it exits without being asked to, it is
// started again after a backoff (doubling from minBackoffMs up to maxBackoffMs; back to the
// minimum once a child stayed up for stableAfterMs), and each restart is announced. A crash of
// one service no longer stops the whole development stack.

/**
 * @param {{
 *   name: string,
 *   start: () => import("node:child_process").ChildProcess,
 *   log?: (line: string) => void,
 *   minBackoffMs?: number,
 *   maxBackoffMs?: number,
 *   stableAfterMs?: number,
 *   killAfterMs?: number,
 * }} opts
 */
export function supervise(opts) {
  const log = opts.log ?? ((line) => console.error(line));
  const minMs = opts.minBackoffMs ?? 1_000;
  const maxMs = opts.maxBackoffMs ?? 30_000;
  const stableMs = opts.stableAfterMs ?? 30_000;
  let child = null;
  let startedAt = 0;
  let failures = 0;
  let restarts = 0;
  let stopping = false;
  let timer = null;
  const listeners = new Set();

  function launch() {
    timer = null;
    startedAt = Date.now();
    const c = opts.start();
    child = c;
    c.once("exit", (code, signal) => {
      if (child === c) child = null;
      if (stopping) return;
      // A child that ran long enough was healthy: its crash starts the backoff from the minimum.
      if (Date.now() - startedAt >= stableMs) failures = 0;
      const delay = Math.min(maxMs, minMs * 2 ** failures);
      failures += 1;
      restarts += 1;
      log(`✖ ${opts.name} exited (${code ?? signal}); restarting it in ${formatSeconds(delay)} (restart ${restarts})`);
      timer = setTimeout(() => {
        launch();
        log(`↻ ${opts.name} restarted (pid ${child?.pid})`);
        for (const l of listeners) l(child);
      }, delay);
    });
    return c;
  }

  launch();
  return {
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    /** Calls `fn(child)` after each restart. */
    onRestart(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** Stops supervising: cancels a pending restart, SIGTERMs the child (SIGKILL after killAfterMs). */
    async stop(signal = "SIGTERM") {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once("exit", resolve));
      c.kill(signal);
      const force = setTimeout(() => c.kill("SIGKILL"), opts.killAfterMs ?? 15_000);
      await exited;
      clearTimeout(force);
    },
  };
}

function formatSeconds(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
}
