import type { z } from "zod";
import { type ApiFamily, AuthplaneError, errorFromResponse, InvalidResponseError, UnavailableError } from "./errors.js";

export interface TransportOptions {
  /** Where the platform is reached, e.g. `https://auth.example.com` (the gateway: every API is under it). */
  baseUrl: string;
  /** Per-request timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** The `fetch` to use; default the global one. */
  fetch?: typeof fetch;
  /** Sent as `User-Agent` (default `authplane-node/<version>`). */
  userAgent?: string;
}

export interface CallSpec<S extends z.ZodType> {
  api: ApiFamily;
  method: "GET" | "POST" | "PATCH";
  path: string;
  authorization: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Schema of the 2xx body (for the passkey API: of `result`). */
  schema: S;
  requestId?: string | undefined;
}

const VERSION = "0.1.0";

/** One HTTP exchange with the platform: JSON in and out, the API family's errors as typed exceptions. */
export class Transport {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;

  constructor(options: TransportOptions) {
    if (typeof options.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError("authplane: baseUrl must be an http(s) URL, e.g. https://auth.example.com");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.userAgent = options.userAgent ?? `authplane-node/${VERSION}`;
  }

  async call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.output<S>> {
    const url = new URL(this.baseUrl + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: spec.authorization,
      "User-Agent": this.userAgent,
    };
    if (spec.body !== undefined) headers["Content-Type"] = "application/json; charset=utf-8";
    if (spec.requestId) headers["X-Request-Id"] = spec.requestId;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: spec.method,
        headers,
        ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // By name: the abort reason may be a DOMException of another realm.
      const name = (err as { name?: unknown } | null)?.name;
      const timedOut = name === "TimeoutError" || name === "AbortError";
      throw new UnavailableError({
        status: 0,
        code: timedOut ? "timeout" : "network_error",
        message: timedOut
          ? `${spec.method} ${spec.path}: no answer within ${this.timeoutMs} ms`
          : `${spec.method} ${spec.path}: ${String(err)}`,
        api: spec.api,
        cause: err,
      });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) throw errorFromResponse(spec.api, response.status, response.headers, body ?? text.slice(0, 500));
    const payload = spec.api === "passkey" && body !== null && typeof body === "object" && "result" in body ? body.result : body;
    const parsed = spec.schema.safeParse(payload);
    if (!parsed.success) {
      throw new InvalidResponseError({
        status: response.status,
        code: "invalid_response",
        message: `${spec.method} ${spec.path} answered ${response.status} with a body that does not match the API contract: ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
          .join("; ")}`,
        api: spec.api,
        body,
        requestId: response.headers.get("x-request-id") ?? undefined,
      });
    }
    return parsed.data;
  }
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** Seed 003's server API authentication: `Basic base64(":" + secret)`. */
export function basicSecret(secret: string): string {
  return `Basic ${Buffer.from(`:${secret}`, "utf8").toString("base64")}`;
}

export function requireCredential(value: string | undefined, what: string, pattern: RegExp): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new TypeError(`authplane: ${what} is required for this call`);
  }
  return value;
}
