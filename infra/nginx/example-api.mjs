#!/usr/bin/env node
// The example downstream API behind the nginx edge (seed 000's `POST /api/v1/queues/{id}/enter`):
// it trusts the identity headers nginx sets from consumer-auth's token check and echoes them, with
// the client address nginx forwarded. No dependencies, so compose runs it from a plain node image.
//   PORT=3000 node infra/nginx/example-api.mjs
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ENTER = /^\/api\/v1\/queues\/([A-Za-z0-9_-]{1,64})\/enter$/;

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * @param {{ onRequest?: (req: http.IncomingMessage) => void }} [opts] `onRequest` sees every request
 *   that reached the API (tests count them).
 */
export function createExampleApi(opts = {}) {
  return http.createServer((req, res) => {
    opts.onRequest?.(req);
    req.resume();
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    const m = ENTER.exec(pathname);
    // Browsers on other origins (the consumer SDK) may call it: bearer tokens, no cookies, so any
    // origin may read the answers. The preflight reaches it without an identity (see the template).
    const origin = req.headers.origin;
    if (origin) res.setHeader("access-control-allow-origin", origin);
    if (req.method === "OPTIONS" && m) {
      res.writeHead(204, {
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "authorization, x-publishable-key, content-type",
        "access-control-max-age": "600",
      });
      return res.end();
    }
    if (!m) return send(res, 404, { error: "not_found", message: "No such queue endpoint." });
    if (req.method !== "POST") return send(res, 405, { error: "method_not_allowed", message: "Use POST." });
    // Set by nginx from the token check, whatever the client sent: the API believes them.
    const consumerId = req.headers["x-consumer-id"];
    if (typeof consumerId !== "string" || consumerId === "") return send(res, 401, { error: "Authentication required" });
    return send(res, 200, {
      queueId: m[1],
      entered: true,
      consumerId,
      organizationId: req.headers["x-organization-id"] ?? null,
      sessionId: req.headers["x-session-id"] ?? null,
      mode: req.headers["x-mode"] ?? null,
      forwardedFor: req.headers["x-forwarded-for"] ?? null,
      realIp: req.headers["x-real-ip"] ?? null,
    });
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.PORT ?? 3000);
  const server = createExampleApi();
  server.listen(port, process.env.HOST ?? "0.0.0.0", () =>
    console.log(JSON.stringify({ level: 30, service: "example-api", msg: `listening on ${port}` })),
  );
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
