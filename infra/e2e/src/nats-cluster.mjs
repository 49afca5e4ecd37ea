// A JetStream cluster of real `nats-server` processes on this machine (one per node, each with its
// own ports and store directory in a temporary directory), running the SHIPPED authorisation
// (infra/nats/nats-server.conf): what the cluster end-to-end test kills nodes of.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "./stack.mjs";

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * @param {{ nodes?: number, port: () => Promise<number>, env?: Record<string, string>,
 *           authorization?: string }} opts
 */
export async function startNatsCluster(opts) {
  if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found (set NATS_SERVER_BIN)`);
  const count = opts.nodes ?? 3;
  const dir = mkdtempSync(path.join(tmpdir(), "authplane-nats-cluster-"));
  const authorization = opts.authorization ?? readFileSync(path.join(root, "infra/nats/nats-server.conf"), "utf8");
  const nodes = [];
  for (let i = 1; i <= count; i++) {
    nodes.push({ name: `n${i}`, client: await opts.port(), cluster: await opts.port(), monitor: await opts.port() });
  }
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.cluster}`);
  for (const n of nodes) {
    n.store = path.join(dir, n.name);
    mkdirSync(n.store);
    n.config = path.join(dir, `${n.name}.conf`);
    writeFileSync(
      n.config,
      [
        `server_name: ${n.name}`,
        `listen: "127.0.0.1:${n.client}"`,
        `http: "127.0.0.1:${n.monitor}"`,
        `jetstream { store_dir: ${JSON.stringify(n.store)}, max_memory_store: 64MB, max_file_store: 1GB }`,
        `cluster { name: authplane, listen: "127.0.0.1:${n.cluster}", routes: [${routes.map((r) => JSON.stringify(r)).join(", ")}] }`,
        // The production authorisation, verbatim (one user per service, only its own subjects).
        authorization,
      ].join("\n"),
    );
    n.log = "";
    n.proc = null;
  }

  const cluster = {
    dir,
    nodes,
    /** `nats://…` of every node, comma-separated: the services' NATS_URL. */
    url: nodes.map((n) => `nats://127.0.0.1:${n.client}`).join(","),
    /** Starts (or restarts, same store) node `i` (0-based). */
    start(i) {
      const n = nodes[i];
      n.log = "";
      n.proc = spawn(NATS_SERVER, ["-c", n.config], {
        env: { PATH: process.env.PATH ?? "", ...(opts.env ?? {}) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      n.exited = new Promise((r) => n.proc.once("exit", (code, signal) => r({ code, signal })));
      for (const s of [n.proc.stdout, n.proc.stderr]) {
        s.setEncoding("utf8");
        s.on("data", (d) => {
          n.log = (n.log + d).slice(-200_000);
        });
      }
    },
    /** SIGKILL node `i`: no goodbye to its peers or clients. */
    async kill(i) {
      const n = nodes[i];
      if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode !== null) return;
      n.proc.kill("SIGKILL");
      await n.exited;
    },
    /** Waits until node `i` answers /healthz (JetStream current: it has caught up with the cluster). */
    async waitHealthy(i, timeoutMs = 60_000) {
      const n = nodes[i];
      const deadline = Date.now() + timeoutMs;
      let last = "no answer";
      for (;;) {
        if (n.proc?.exitCode !== null) throw new Error(`nats ${n.name} exited:\n${n.log.slice(-3000)}`);
        try {
          const res = await fetch(`http://127.0.0.1:${n.monitor}/healthz`, { signal: AbortSignal.timeout(2_000) });
          last = `${res.status} ${await res.text()}`;
          if (res.ok) return;
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() > deadline)
          throw new Error(`nats ${n.name} not healthy after ${timeoutMs} ms (last: ${last}):\n${n.log.slice(-3000)}`);
        await sleep(250);
      }
    },
    /** Everything node `i` printed since it last started. */
    log(i) {
      return nodes[i].log;
    },
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null) {
            n.proc.kill("SIGTERM");
            const t = setTimeout(() => n.proc.kill("SIGKILL"), 5_000);
            await n.exited;
            clearTimeout(t);
          }
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < count; i++) cluster.start(i);
    await Promise.all(nodes.map((_, i) => cluster.waitHealthy(i)));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
