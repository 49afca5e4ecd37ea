/**
 * A small consumer API (seed 000 paths, bodies and error format) on a real HTTP listener, for the
 * SDK's unit tests: refresh tokens rotate on each use and a spent one used again revokes the
 * session (theft detection without the grace window, so a double refresh shows). Every request
 * is recorded as the server saw it. The real service is exercised by the Chromium end-to-end test.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface Scripted {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Hold the answer this long (ms). */
  delayMs?: number;
}

interface SessionRow {
  id: string;
  consumerId: string;
  type: string;
  refresh: string;
  spent: Set<string>;
  access: Set<string>;
  revoked: boolean;
}

export interface FakeApi {
  url: string;
  requests: Seen[];
  /** Requests to one path (method POST unless given). */
  calls(path: string, method?: string): Seen[];
  /** Answer the next request matching `path` with this instead (once per entry). */
  script(path: string, answer: Scripted): void;
  /** Access tokens the API refuses with 401 although valid (as after a signing-key loss). */
  refused: Set<string>;
  /** Makes a session's refresh fail (as after a logout elsewhere). */
  revokeAll(): void;
  /** Access token lifetime of new tokens, seconds. */
  accessTtlSeconds: number;
  /** Delay of every refresh answer, ms (widens the window for concurrent refreshes). */
  refreshDelayMs: number;
  close(): Promise<void>;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

export async function startFakeApi(): Promise<FakeApi> {
  const sessions = new Map<string, SessionRow>();
  const scripts = new Map<string, Scripted[]>();
  const requests: Seen[] = [];

  const api: FakeApi = {
    url: "",
    requests,
    calls: (path, method = "POST") => requests.filter((r) => r.path === path && r.method === method),
    script(path, answer) {
      scripts.set(path, [...(scripts.get(path) ?? []), answer]);
    },
    refused: new Set(),
    revokeAll() {
      for (const s of sessions.values()) s.revoked = true;
    },
    accessTtlSeconds: 3600,
    refreshDelayMs: 30,
    close: async () => {},
  };

  function accessToken(s: SessionRow): string {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64({ consumerId: s.consumerId, sessionId: s.id, iat: now, exp: now + api.accessTtlSeconds, jti: randomBytes(6).toString("hex") })}.sig`;
    s.access.add(token);
    return token;
  }

  function issue(type: string, consumerId: string) {
    const s: SessionRow = {
      id: `sess_${randomBytes(8).toString("hex")}`,
      consumerId,
      type,
      refresh: `rt_${randomBytes(16).toString("base64url")}`,
      spent: new Set(),
      access: new Set(),
      revoked: false,
    };
    sessions.set(s.id, s);
    const at = accessToken(s);
    const expiresAt = new Date(Date.now() + api.accessTtlSeconds * 1000).toISOString();
    return {
      session: { type, consumerId, sessionId: s.id, expiresAt, ...(type === "guest" ? { guestId: consumerId } : {}) },
      accessToken: at,
      refreshToken: s.refresh,
      accessTokenExpiresAt: expiresAt,
      refreshTokenExpiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    };
  }

  function bearerSession(req: IncomingMessage): SessionRow | null | "refused" {
    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ")) return null;
    const token = auth.slice(7);
    if (api.refused.has(token)) return "refused";
    for (const s of sessions.values()) if (s.access.has(token)) return s.revoked ? "refused" : s;
    return "refused";
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      if (payload === undefined) {
        res.writeHead(status, headers).end();
        return;
      }
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(payload));
    };
    const scripted = scripts.get(path)?.shift();
    if (scripted) {
      if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
      if (scripted.raw !== undefined) {
        res.writeHead(scripted.status, { "content-type": "text/html", ...(scripted.headers ?? {}) }).end(scripted.raw);
        return;
      }
      send(scripted.status, scripted.body, scripted.headers);
      return;
    }
    if (path !== "/api/v1/auth/check" && req.headers["x-publishable-key"] !== "pk_test_unit") {
      send(401, { error: "Authentication required" });
      return;
    }
    const b = (body ?? {}) as Record<string, unknown>;
    switch (path) {
      case "/api/v1/auth/guest": {
        const id = `guest_${randomBytes(8).toString("hex")}`;
        send(200, issue("guest", id));
        return;
      }
      case "/api/v1/auth/otp/request":
        send(200, { ok: true });
        return;
      case "/api/v1/auth/otp/verify": {
        if (b.code !== "123456") {
          send(401, { error: "otp_invalid", message: "Invalid verification code. Please try again." });
          return;
        }
        const who = bearerSession(req);
        if (who === "refused") {
          send(401, { error: "invalid_token" });
          return;
        }
        send(200, issue("otp", who ? who.consumerId : `cons_${randomBytes(8).toString("hex")}`));
        return;
      }
      case "/api/v1/auth/refresh": {
        await new Promise((r) => setTimeout(r, api.refreshDelayMs));
        const token = b.refreshToken;
        for (const s of sessions.values()) {
          if (s.spent.has(token as string)) {
            s.revoked = true;
            send(401, { error: "refresh_token_reused" });
            return;
          }
          if (s.refresh === token) {
            if (s.revoked) {
              send(401, { error: "session_revoked" });
              return;
            }
            s.spent.add(s.refresh);
            s.refresh = `rt_${randomBytes(16).toString("base64url")}`;
            send(200, {
              accessToken: accessToken(s),
              refreshToken: s.refresh,
              accessTokenExpiresAt: new Date(Date.now() + api.accessTtlSeconds * 1000).toISOString(),
            });
            return;
          }
        }
        send(401, { error: "refresh_token_invalid" });
        return;
      }
      case "/api/v1/auth/logout": {
        const s = bearerSession(req);
        if (!s || s === "refused") {
          send(401, { error: "Authentication required" });
          return;
        }
        s.revoked = true;
        send(204);
        return;
      }
      case "/api/v1/auth/check": {
        const s = bearerSession(req);
        if (!s || s === "refused") {
          send(401, { error: "Authentication required" });
          return;
        }
        send(200, { consumerId: s.consumerId, echo: body ?? null });
        return;
      }
      default:
        send(404, { error: "not_found" });
    }
  }

  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (d) => {
      raw += d;
    });
    req.on("end", () => {
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      requests.push({ method: req.method ?? "", path: (req.url ?? "/").split("?")[0] ?? "/", headers: req.headers, body });
      handle(req, res, body).catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}

/** A FIFO exclusive lock manager with the Web Locks `request` signature (Node 20 has no `navigator.locks`). */
export class FifoLocks {
  private readonly tails = new Map<string, Promise<void>>();
  async request<T>(name: string, _options: { mode?: "exclusive" | "shared" }, callback: (lock: unknown) => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    this.tails.set(
      name,
      previous.then(() => mine),
    );
    await previous;
    try {
      return await callback({ name });
    } finally {
      release();
    }
  }
}
