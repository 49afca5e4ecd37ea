// Runs Debian's nginx (foreground, no root paths: pid, logs and temp files in a temp folder) with
// infra/nginx/authplane.conf.template rendered for local ports, exactly as the official image
// renders it into conf.d/ and includes it from its nginx.conf `http` block.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderTemplate } from "../../nginx/render.mjs";
import { freePort } from "./stack.mjs";

const NGINX_BIN = process.env.NGINX_BIN ?? "/usr/sbin/nginx";

/** @param {{ vars: Record<string, string> }} opts `vars`: template variables except EDGE_LISTEN and EDGE_ACCESS_LOG. */
export async function startNginx(opts) {
  if (!existsSync(NGINX_BIN))
    throw new Error(`${NGINX_BIN} is missing: this end-to-end test needs Debian's nginx (apt-get install nginx).`);
  const dir = mkdtempSync(path.join(tmpdir(), "authplane-nginx-"));
  // Workers run as `nobody` when the master is root: they must reach the temp folders below.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const accessLog = path.join(dir, "access.log");
  const conf = renderTemplate({ ...opts.vars, EDGE_LISTEN: `127.0.0.1:${port}`, EDGE_ACCESS_LOG: accessLog });
  writeFileSync(path.join(dir, "authplane.conf"), conf);
  // The image's nginx.conf, minus what needs root (user, /var paths): the edge config is included in `http`.
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${path.join(dir, `${t}_temp`)};`);
  writeFileSync(
    path.join(dir, "nginx.conf"),
    [
      "daemon off;",
      "worker_processes 1;",
      `pid ${path.join(dir, "nginx.pid")};`,
      "error_log stderr warn;",
      "events { worker_connections 512; }",
      "http {",
      ...temp.map((t) => `  ${t}`),
      "  keepalive_timeout 65;",
      `  include ${path.join(dir, "authplane.conf")};`,
      "}",
      "",
    ].join("\n"),
  );
  const child = spawn(NGINX_BIN, ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", "stderr"], { stdio: ["ignore", "pipe", "pipe"] });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (d) => {
      for (const line of d.split("\n")) if (line && lines.length < 5_000) lines.push(line);
    });
  }
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let dead = null;
  exited.then((r) => {
    dead = r;
  });
  const url = `http://127.0.0.1:${port}`;
  const edge = {
    url,
    dir,
    /** The configuration nginx runs (the rendered template). */
    conf,
    /** nginx's error log (stderr) so far. */
    errors: () => lines.join("\n"),
    /** The access log lines so far. */
    accessLog: () => (existsSync(accessLog) ? readFileSync(accessLog, "utf8") : ""),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGQUIT: graceful shutdown of the master and its workers.
        child.kill("SIGQUIT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (dead) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx exited (${dead.code ?? dead.signal}) before it was ready:\n${lines.join("\n")}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return edge;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await edge.stop();
      throw new Error(`nginx not ready at ${url}:\n${lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
