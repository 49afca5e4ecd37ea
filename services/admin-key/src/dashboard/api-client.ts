import type { Mode } from "@authplane/contracts";
import type { z } from "zod";
import type { Env } from "../env.js";

/**
 * The console's client for the other services' admin endpoints (consumer-auth, webauthn-credential,
 * otp-delivery; see CONTRACTS in the README's Dashboard section). It calls them THROUGH THE GATEWAY
 * (DASHBOARD_API_URL) with `Authorization: Bearer <OPERATOR_TOKEN>` and the organization and mode
 * the page is about (`X-Organization-Id`, `X-Mode`), never reading another service's tables.
 *
 * Every call is bounded by DASHBOARD_API_TIMEOUT_MS and ends in the parsed answer or a
 * `ServiceCallError` saying what went wrong (timeout, unreachable, an HTTP error with the service's
 * code, or an answer that does not match the schema). A seed 003 answer (`{result, errors}`,
 * webauthn-credential) is unwrapped to its `result`. Neither the token nor the answer is logged.
 */

export type ServiceCallFailure = "timeout" | "unreachable" | "http" | "invalid_response";

export class ServiceCallError extends Error {
  constructor(
    readonly failure: ServiceCallFailure,
    /** What was called, for messages: `GET /api/v1/consumers`. */
    readonly call: string,
    /** The HTTP status (failure "http" and "invalid_response"). */
    readonly status: number | null = null,
    /** The service's error code (`consumer_not_found`, `EntityNotFound`, …) when it sent one. */
    readonly code: string | null = null,
    message?: string,
  ) {
    super(message ?? `${call}: ${failure}${status ? ` (HTTP ${status}${code ? ` ${code}` : ""})` : ""}`);
    this.name = "ServiceCallError";
  }

  /** A 404 of the called service (unknown id, or another organization's / mode's). */
  get notFound(): boolean {
    return this.failure === "http" && this.status === 404;
  }
}

interface ServiceCall<S extends z.ZodType> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path under the gateway, e.g. `/api/v1/consumers`. */
  path: string;
  /** The organization and mode the call is about. */
  scope: { organizationId: string; mode: Mode };
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The success answer's schema (after unwrapping a seed 003 envelope). */
  schema: S;
}

export interface GatewayClient {
  call<S extends z.ZodType>(call: ServiceCall<S>): Promise<z.output<S>>;
}

type ClientEnv = Pick<Env, "DASHBOARD_API_URL" | "DASHBOARD_API_TIMEOUT_MS" | "OPERATOR_TOKEN">;

function errorCodeOf(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as { error?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof b.error === "string") return b.error;
  const first = Array.isArray(b.errors) ? b.errors[0] : undefined;
  return typeof first?.code === "string" ? first.code : null;
}

function unwrap(body: unknown): unknown {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 2 && keys.includes("result") && Array.isArray((body as { errors?: unknown }).errors))
      return (body as { result: unknown }).result;
  }
  return body;
}

export function gatewayClient(env: ClientEnv, fetchImpl: typeof fetch = fetch): GatewayClient {
  const base = env.DASHBOARD_API_URL.replace(/\/+$/, "");
  return {
    async call(c) {
      const url = new URL(`${base}${c.path}`);
      for (const [k, v] of Object.entries(c.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
      const label = `${c.method} ${c.path}`;
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: c.method,
          headers: {
            Authorization: `Bearer ${env.OPERATOR_TOKEN}`,
            "X-Organization-Id": c.scope.organizationId,
            "X-Mode": c.scope.mode,
            Accept: "application/json",
            ...(c.body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: c.body === undefined ? undefined : JSON.stringify(c.body),
          redirect: "error",
          signal: AbortSignal.timeout(env.DASHBOARD_API_TIMEOUT_MS),
        });
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "TimeoutError" || name === "AbortError")
          throw new ServiceCallError("timeout", label, null, null, `${label}: no answer within ${env.DASHBOARD_API_TIMEOUT_MS} ms`);
        throw new ServiceCallError("unreachable", label, null, null, `${label}: the gateway (${base}) cannot be reached`);
      }
      let body: unknown;
      try {
        const text = await res.text();
        body = text ? JSON.parse(text) : undefined;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "TimeoutError" || name === "AbortError")
          throw new ServiceCallError("timeout", label, res.status, null, `${label}: no answer within ${env.DASHBOARD_API_TIMEOUT_MS} ms`);
        if (!res.ok) throw new ServiceCallError("http", label, res.status, null);
        throw new ServiceCallError("invalid_response", label, res.status, null, `${label}: the answer is not JSON`);
      }
      if (!res.ok) throw new ServiceCallError("http", label, res.status, errorCodeOf(body));
      const parsed = c.schema.safeParse(unwrap(body));
      if (!parsed.success) throw new ServiceCallError("invalid_response", label, res.status, null, `${label}: unexpected answer shape`);
      return parsed.data;
    },
  };
}
