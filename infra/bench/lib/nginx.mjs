// nginx-check: a protected request as the production edge serves it. Debian's nginx runs
// infra/nginx/authplane.conf.template (rendered for local ports by the e2e suite's startNginx, as
// the official image renders it) in front of consumer-auth; `POST /api/v1/queues/bench/enter`
// passes nginx's `auth_request` to the tenant-bound /api/v1/auth/check, then reaches the example
// downstream API (infra/nginx/example-api.mjs, in this process). Runs only when an nginx binary
// and infra/nginx/ exist; the edge's per-client limits are lifted for the run.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startNginx } from "@authplane/e2e/nginx";
import { root } from "@authplane/e2e/stack";
import { createExampleApi } from "../../nginx/example-api.mjs";

// The binary startNginx runs (same variable and default).
const NGINX_BIN = process.env.NGINX_BIN ?? "/usr/sbin/nginx";

/** The worker processes of an nginx master (they do the work; the master only supervises). */
function workersOf(masterPid) {
  try {
    return readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts nginx and the example API, or returns null when nginx or infra/nginx is missing. */
export async function nginxEdge({ consumerAuthUrl, adminKeyUrl, log }) {
  if (!existsSync(NGINX_BIN) || !existsSync(path.join(root, "infra/nginx/authplane.conf.template"))) return null;
  const api = createExampleApi();
  await new Promise((resolve) => api.listen(0, "127.0.0.1", resolve));
  const apiAddress = `127.0.0.1:${api.address().port}`;
  const host = (url) => new URL(url).host;
  const edge = await startNginx({
    vars: {
      CONSUMER_AUTH_UPSTREAM: host(consumerAuthUrl),
      ADMIN_KEY_UPSTREAM: host(adminKeyUrl),
      // Not benchmarked: the passkey paths answer 502 if called.
      WEBAUTHN_CREDENTIAL_UPSTREAM: "127.0.0.1:9",
      OTP_DELIVERY_UPSTREAM: "127.0.0.1:9",
      PROTECTED_API_UPSTREAM: apiAddress,
      EDGE_RATE: "1000000r/s",
      EDGE_BURST: "1000000",
    },
  });
  const master = Number(readFileSync(path.join(edge.dir, "nginx.pid"), "utf8").trim());
  const worker = workersOf(master)[0];
  log(`  nginx at ${edge.url} (worker pid ${worker ?? "?"}), example API at ${apiAddress}`);
  return {
    url: edge.url,
    protectedPath: "/api/v1/queues/bench/enter",
    method: "POST",
    pid: worker ?? master,
    async stop() {
      await edge.stop();
      await new Promise((resolve) => api.close(resolve));
    },
  };
}
