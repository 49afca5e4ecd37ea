import {
  AdminConsumer,
  AdminConsumerList,
  AdminPasskeyCredential,
  AdminPasskeyCredentialList,
  AdminRevokeResult,
  AdminSessionList,
  ConsumerStats,
  type Mode,
  PasskeyStats,
} from "@authplane/contracts";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import { type GatewayClient, gatewayClient, ServiceCallError } from "./api-client.js";

/**
 * The other services' Admin API calls the console makes (through the gateway, see api-client.ts),
 * one typed function per endpoint. Schemas: `@authplane/contracts` where the service publishes
 * them (consumer-auth, webauthn-credential), otp-delivery's answer shapes below (from its
 * routes/admin-api.ts; the console parses only what it shows).
 */

export interface Scope {
  organizationId: string;
  mode: Mode;
}

const OtpDelivery = z.object({
  id: z.string(),
  channel: z.enum(["email", "sms"]),
  destination: z.string(),
  status: z.enum(["pending", "sent", "failed"]),
  attempts: z.number().int(),
  failureReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type OtpDelivery = z.infer<typeof OtpDelivery>;
const OtpDeliveryList = z.object({ data: z.array(OtpDelivery), nextCursor: z.string().nullable() });
const OtpDeliveryStats = z.object({
  days: z.array(z.object({ date: z.string(), sent: z.number().int(), failed: z.number().int(), pending: z.number().int() })),
  successRate: z.number().nullable(),
});

const clients = new WeakMap<AppDeps, GatewayClient>();

/** The console's gateway client (one per deps; DASHBOARD_API_URL, DASHBOARD_API_TIMEOUT_MS, OPERATOR_TOKEN). */
function client(deps: AppDeps): GatewayClient {
  let c = clients.get(deps);
  if (!c) {
    c = gatewayClient(deps.env);
    clients.set(deps, c);
  }
  return c;
}

const seg = encodeURIComponent;

export const consumerAuth = {
  list: (deps: AppDeps, scope: Scope, query: { q?: string; cursor?: string; limit?: number }) =>
    client(deps).call({ method: "GET", path: "/api/v1/consumers", scope, query, schema: AdminConsumerList }),
  get: (deps: AppDeps, scope: Scope, consumerId: string) =>
    client(deps).call({ method: "GET", path: `/api/v1/consumers/${seg(consumerId)}`, scope, schema: AdminConsumer }),
  sessions: (deps: AppDeps, scope: Scope, consumerId: string, cursor?: string) =>
    client(deps).call({
      method: "GET",
      path: `/api/v1/consumers/${seg(consumerId)}/sessions`,
      scope,
      query: { includeRevoked: true, limit: 50, cursor },
      schema: AdminSessionList,
    }),
  revokeSession: (deps: AppDeps, scope: Scope, consumerId: string, sessionId: string) =>
    client(deps).call({
      method: "POST",
      path: `/api/v1/consumers/${seg(consumerId)}/sessions/${seg(sessionId)}/revoke`,
      scope,
      schema: AdminRevokeResult,
    }),
  revokeAll: (deps: AppDeps, scope: Scope, consumerId: string) =>
    client(deps).call({ method: "POST", path: `/api/v1/consumers/${seg(consumerId)}/sessions/revoke`, scope, schema: AdminRevokeResult }),
  stats: (deps: AppDeps, scope: Scope, days: number) =>
    client(deps).call({ method: "GET", path: "/api/v1/stats/consumers", scope, query: { days }, schema: ConsumerStats }),
};

export const passkeys = {
  ofUser: (deps: AppDeps, scope: Scope, userId: string, cursor?: string) =>
    client(deps).call({
      method: "GET",
      path: "/api/v1/credentials",
      scope,
      query: { userId, limit: 50, cursor },
      schema: AdminPasskeyCredentialList,
    }),
  get: (deps: AppDeps, scope: Scope, credentialId: string) =>
    client(deps).call({ method: "GET", path: `/api/v1/credentials/${seg(credentialId)}`, scope, schema: AdminPasskeyCredential }),
  setActive: (deps: AppDeps, scope: Scope, credentialId: string, active: boolean) =>
    client(deps).call({
      method: "POST",
      path: `/api/v1/credentials/${seg(credentialId)}/${active ? "reactivate" : "deactivate"}`,
      scope,
      schema: AdminPasskeyCredential,
    }),
  stats: (deps: AppDeps, scope: Scope, days: number) =>
    client(deps).call({ method: "GET", path: "/api/v1/stats/passkeys", scope, query: { days }, schema: PasskeyStats }),
};

export const otpDeliveries = {
  list: (deps: AppDeps, scope: Scope, query: { status?: string; channel?: string; cursor?: string; limit?: number }) =>
    client(deps).call({ method: "GET", path: "/api/v1/otp-deliveries", scope, query, schema: OtpDeliveryList }),
  stats: (deps: AppDeps, scope: Scope, days: number) =>
    client(deps).call({ method: "GET", path: "/api/v1/stats/otp-deliveries", scope, query: { days }, schema: OtpDeliveryStats }),
};

/** A sentence for the page when a call failed: which service, and what went wrong (never the answer's body). */
export function failureMessage(what: string, err: ServiceCallError): string {
  switch (err.failure) {
    case "timeout":
      return `${what} could not be loaded: the service did not answer in time. Try again shortly.`;
    case "unreachable":
      return `${what} could not be loaded: the API gateway cannot be reached. Try again shortly.`;
    case "invalid_response":
      return `${what} could not be loaded: the service sent an answer the console does not understand.`;
    default:
      return err.status === 503 || err.status === 502 || err.status === 504
        ? `${what} could not be loaded: the service is unavailable (HTTP ${err.status}). Try again shortly.`
        : `${what} could not be loaded: the service answered HTTP ${err.status}${err.code ? ` (${err.code})` : ""}.`;
  }
}

/** The outcome of a call for a page section: its value, or the message to show in its place. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; message: string };

/** Runs a call for a page section: a service failure becomes a message (any other error still throws). */
export async function load<T>(what: string, call: Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await call };
  } catch (err) {
    if (err instanceof ServiceCallError) return { ok: false, message: failureMessage(what, err) };
    throw err;
  }
}
