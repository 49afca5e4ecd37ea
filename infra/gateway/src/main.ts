/**
 * Development gateway: one origin (http://localhost:8080) in front of the services, routing by
 * path. It appends the client address to X-Forwarded-For (the services trust it from loopback
 * only), and adds X-Forwarded-Proto/Host. Each service's variable may list several instances,
 * comma-separated: requests go round-robin, and one refusing connections is skipped for the next.
 * In production use your own gateway with the same routes (see infra/README.md). It imports only
 * service-kit's dependency-free OpenAPI module (merge and reference page) and the contracts (zod)
 * for the AsyncAPI document, so it starts instantly.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { mergeOpenApiDocuments, type OpenApiDocument, renderDocsHtml } from "@authplane/service-kit/openapi-document";
import { asyncApiDocument } from "@authplane/contracts";

/** Base URL of each service; several instances as a comma-separated list. */
export interface GatewayTargets {
  consumer: string;
  admin: string;
  otp: string;
  webauthn: string;
}

export function targetsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayTargets {
  return {
    consumer: env.CONSUMER_AUTH_URL ?? "http://127.0.0.1:4001",
    admin: env.ADMIN_KEY_URL ?? "http://127.0.0.1:4002",
    otp: env.OTP_DELIVERY_URL ?? "http://127.0.0.1:4003",
    webauthn: env.WEBAUTHN_CREDENTIAL_URL ?? "http://127.0.0.1:4004",
  };
}

/** Path prefixes and the service that owns each (first match wins, on segment boundaries). */
export const ROUTE_PREFIXES: ReadonlyArray<readonly [string, keyof GatewayTargets]> = [
  ["/api/v1/auth", "consumer"],
  ["/.well-known", "consumer"],
  ["/api/v1/organizations", "admin"],
  ["/api/v1/keys", "admin"],
  // The Admin API endpoints of the other services (issue 14: what the dashboard calls).
  ["/api/v1/consumers", "consumer"],
  ["/api/v1/stats/consumers", "consumer"],
  ["/api/v1/credentials", "webauthn"],
  ["/api/v1/stats/passkeys", "webauthn"],
  ["/api/v1/otp-deliveries", "otp"],
  ["/api/v1/stats/otp-deliveries", "otp"],
  // The web console (HTML, session cookie): admin-key serves it.
  ["/dashboard", "admin"],
  ["/attestation", "webauthn"],
  ["/assertion", "webauthn"],
  ["/registration", "webauthn"],
  ["/credential", "webauthn"],
  ["/auth/verify", "webauthn"],
  // Before "/demo": the consumer SDK demo is consumer-auth's, the passkey demo webauthn's.
  ["/demo/consumer", "consumer"],
  ["/demo", "webauthn"],
  ["/sdk", "webauthn"],
  ["/dev", "otp"],
];

/** The service owning `pathname`, or null. `/api/v1/authx` does not match `/api/v1/auth`. */
export function serviceOf(pathname: string): keyof GatewayTargets | null {
  for (const [prefix, name] of ROUTE_PREFIXES) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return name;
  }
  return null;
}

/** The upstream base URL serving `pathname`, or null. */
export function route(pathname: string, targets: GatewayTargets = targetsFromEnv()): string | null {
  const name = serviceOf(pathname);
  return name ? targets[name] : null;
}

/** Path prefixes whose clients read seed 000's `{error, message}` (the consumer/admin APIs, the dev outbox). */
const SEED_000_PREFIXES = ["/api", "/.well-known", "/dev"];

/**
 * Which error body the clients of `pathname` can parse. The passkey API (seed 003) lives at the
 * root: its SDKs call `baseUrl + path` and parse only the wrapped `{result, errors}` (the PHP SDK
 * throws MalformedResponse on anything else), so the gateway's own errors on passkey paths, and
 * on any unknown root path (an SDK of another version calling a path we do not serve), are
 * wrapped. Paths under `/api`, `/.well-known` and `/dev` keep seed 000's `{error, message}`.
 */
export function errorStyleOf(pathname: string): "passkey" | "seed000" {
  const name = serviceOf(pathname);
  if (name) return name === "webauthn" ? "passkey" : "seed000";
  return SEED_000_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`)) ? "seed000" : "passkey";
}

/** Seed 003 codes for the gateway's own errors (EntityNotFound, InvalidInput, InternalError). */
const PASSKEY_CODES: Record<GatewayError, string> = {
  not_found: "EntityNotFound",
  bad_request: "InvalidInput",
  service_unavailable: "InternalError",
  gateway_timeout: "InternalError",
};
type GatewayError = "not_found" | "bad_request" | "service_unavailable" | "gateway_timeout";

/** The path a request target names, also in absolute form (`http://host/path`), for choosing the error format. */
function pathForErrorStyle(url: string): string {
  if (url.startsWith("/")) return url.split("?")[0] ?? "/";
  try {
    return new URL(url).pathname;
  } catch {
    return "/";
  }
}

/** The gateway's own error in the format the path's clients parse. */
export function gatewayErrorBody(pathname: string, error: GatewayError, message: string): object {
  if (errorStyleOf(pathname) === "seed000") return { error, message };
  return { result: null, errors: [{ code: PASSKEY_CODES[error], message }] };
}

/**
 * Dot segments (`/api/v1/auth/../organizations`) and encoded slashes/dots would let a path match
 * one prefix here and mean another upstream; a gateway that authorizes by prefix must refuse them.
 */
function ambiguousPath(pathname: string): boolean {
  return /(^|\/)\.\.?(\/|$)/.test(pathname) || /%2e|%2f|%5c|\\/i.test(pathname);
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function sendJson(res: http.ServerResponse, status: number, body: object, extra: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** `::ffff:127.0.0.1` (IPv4 seen on a dual-stack socket) -> `127.0.0.1`. */
function plainAddress(addr: string | undefined): string {
  if (!addr) return "";
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

/** What a request id from outside may look like (the services accept the same). */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const SERVICE_NAMES: Record<keyof GatewayTargets, string> = {
  consumer: "consumer-auth",
  admin: "admin-key",
  otp: "otp-delivery",
  webauthn: "webauthn-credential",
};

/**
 * The merged OpenAPI document of everything this gateway routes: each service's own
 * `/openapi.json` (the services stay the source), keeping of each only the paths the gateway sends
 * to that service (so a service's /healthz or /openapi.json is not claimed). A service that does
 * not answer (down, or without a document) is left out and named in the description.
 */
export async function mergedOpenApi(targets: GatewayTargets, timeoutMs = 3_000): Promise<OpenApiDocument> {
  const names = Object.keys(targets) as Array<keyof GatewayTargets>;
  const fetched = await Promise.all(
    names.map(async (name) => {
      try {
        // The first instance that answers (they serve the same document).
        for (const base of upstreamsOf(targets[name])) {
          const res = await fetch(new URL("/openapi.json", base), { signal: AbortSignal.timeout(timeoutMs) }).catch(() => null);
          if (!res) continue;
          if (!res.ok) return null;
          const doc = (await res.json()) as OpenApiDocument;
          return doc && typeof doc === "object" && doc.paths ? { name, doc } : null;
        }
        return null;
      } catch {
        return null;
      }
    }),
  );
  const present = fetched.filter((f): f is { name: keyof GatewayTargets; doc: OpenApiDocument } => f !== null);
  const missing = names.filter((n) => !present.some((p) => p.name === n)).map((n) => SERVICE_NAMES[n]);
  return mergeOpenApiDocuments(
    {
      title: "authplane",
      version: "1",
      description:
        "Every authplane API behind one origin (the development gateway): the consumer API, the Admin API, the passkey APIs and the " +
        "development outbox, merged from each service's own /openapi.json." +
        (missing.length ? `\nNot included (no document from): ${missing.join(", ")}.` : ""),
    },
    present.map((p) => p.doc),
    (path, index) => serviceOf(path) === present[index]?.name,
  );
}

export interface GatewayOptions {
  targets?: GatewayTargets;
  /** Upstream response timeout (no byte for this long -> 504). */
  upstreamTimeoutMs?: number;
}

/** Bodies up to this size are kept for a retry on the next instance; larger ones are not retried. */
const MAX_REPLAY_BYTES = 1024 * 1024;

/**
 * The instances behind one target: a base URL, or several comma-separated
 * (`http://10.0.0.1:4001,http://10.0.0.2:4001`).
 */
export function upstreamsOf(target: string): URL[] {
  const urls = target
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => new URL(u));
  if (urls.length === 0) throw new Error(`no upstream URL in "${target}"`);
  return urls;
}

export function createGateway(opts: GatewayOptions = {}): http.Server {
  const targets = opts.targets ?? targetsFromEnv();
  // Requests go round-robin over a service's instances; one that refuses the connection (stopped,
  // restarting) is skipped for the next, so a lost instance costs no client an error.
  const pools = new Map<string, { urls: URL[]; next: number }>();
  const poolOf = (target: string) => {
    let pool = pools.get(target);
    if (!pool) {
      pool = { urls: upstreamsOf(target), next: 0 };
      pools.set(target, pool);
    }
    return pool;
  };
  for (const target of Object.values(targets)) poolOf(target);
  const timeoutMs = opts.upstreamTimeoutMs ?? 30_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
  let asyncApi: object | null = null;
  const server = http.createServer((req, res) => {
    // Every request gets an id here (or keeps a well-formed one from the client): passed to the
    // service, which logs it on each line, passes it over NATS, and echoes it back.
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    const url = req.url ?? "/";
    const pathname = url.split("?")[0] ?? "/";
    if (pathname === "/healthz") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    if ((pathname === "/openapi.json" || pathname === "/docs") && (req.method === "GET" || req.method === "HEAD")) {
      mergedOpenApi(targets).then(
        (doc) => {
          if (pathname === "/openapi.json") {
            sendJson(res, 200, doc, { "cache-control": "no-cache" });
            return;
          }
          const html = renderDocsHtml(doc);
          res.writeHead(200, {
            "content-type": "text/html; charset=utf-8",
            "content-length": Buffer.byteLength(html),
            "cache-control": "no-cache",
            // The page is one file with inline CSS and no script.
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
            "x-content-type-options": "nosniff",
          });
          res.end(req.method === "HEAD" ? undefined : html);
        },
        () => sendJson(res, 500, { error: "internal_error", message: "The merged OpenAPI document could not be built." }),
      );
      return;
    }
    // The AsyncAPI document of the NATS events internal services subscribe to (event catalog).
    if (pathname === "/asyncapi.json") {
      asyncApi ??= asyncApiDocument();
      sendJson(res, 200, asyncApi);
      return;
    }
    const fail = (status: number, error: GatewayError, message: string, extra?: http.OutgoingHttpHeaders) =>
      sendJson(res, status, gatewayErrorBody(pathForErrorStyle(url), error, message), extra);
    if (!url.startsWith("/") || ambiguousPath(pathname)) {
      fail(400, "bad_request", "Malformed request path.");
      return;
    }
    const target = route(pathname, targets);
    if (!target) {
      fail(404, "not_found", "No service serves this path.");
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const clientIp = plainAddress(req.socket.remoteAddress);
    const prior = req.headers["x-forwarded-for"];
    // The gateway is the edge: it appends the address it saw, so the service's trusted hop is us.
    headers["x-forwarded-for"] = prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${clientIp}` : clientIp;
    headers["x-forwarded-proto"] = "http";
    headers["x-forwarded-host"] = req.headers.host ?? "";
    const pool = poolOf(target);
    const first = pool.next;
    pool.next = (pool.next + 1) % pool.urls.length;
    // The body is kept (up to MAX_REPLAY_BYTES) so a request refused by one instance can be sent
    // whole to the next one.
    const body: Buffer[] = [];
    let bodyBytes = 0;
    let replayable = true;
    let bodyEnded = false;
    const send = (attempt: number): http.ClientRequest => {
      const t = pool.urls[(first + attempt) % pool.urls.length] as URL;
      const upstream = http.request(
        { host: t.hostname, port: t.port || 80, method: req.method, path: url, headers, agent, timeout: timeoutMs },
        (up) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
          res.writeHead(up.statusCode ?? 502, out);
          up.pipe(res);
          // An upstream that dies mid-body must not leave a half response looking complete.
          up.on("error", () => res.destroy());
        },
      );
      let timedOut = false;
      upstream.on("timeout", () => {
        timedOut = true;
        upstream.destroy(new Error("upstream timeout"));
      });
      upstream.on("error", (err: NodeJS.ErrnoException) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // Refused: that instance never saw the request, so the next one may have it. Any other
        // error (a reset, a timeout) may come after the instance acted on it: never sent twice.
        if (err.code === "ECONNREFUSED" && replayable && attempt + 1 < pool.urls.length && !res.destroyed) {
          current = send(attempt + 1);
          req.resume();
          return;
        }
        if (timedOut) fail(504, "gateway_timeout", "The upstream service did not answer in time.");
        else fail(503, "service_unavailable", "The upstream service is unavailable.", { "retry-after": "1" });
      });
      for (const chunk of body) upstream.write(chunk);
      if (bodyEnded) upstream.end();
      return upstream;
    };
    let current = send(0);
    req.on("data", (chunk: Buffer) => {
      if (replayable) {
        bodyBytes += chunk.length;
        if (bodyBytes > MAX_REPLAY_BYTES) {
          replayable = false;
          body.length = 0;
        } else body.push(chunk);
      }
      const target = current;
      if (!target.write(chunk)) {
        req.pause();
        target.once("drain", () => req.resume());
      }
    });
    req.on("end", () => {
      bodyEnded = true;
      current.end();
    });
    // A client that goes away cancels the upstream request.
    res.on("close", () => {
      if (!res.writableFinished) current.destroy();
    });
  });
  server.on("close", () => agent.destroy());
  return server;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").slice(-2).join("/"));
if (isMain) {
  const port = Number(process.env.PORT ?? 8080);
  const server = createGateway();
  server.keepAliveTimeout = 65_000;
  server.listen(port, process.env.HOST ?? "0.0.0.0", () =>
    process.stdout.write(`${JSON.stringify({ level: 30, service: "gateway", msg: `listening on ${port}` })}\n`),
  );
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
