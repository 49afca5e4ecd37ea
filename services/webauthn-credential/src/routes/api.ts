import { PasskeyError, PasskeyErrorCode } from "@authplane/contracts";
import { type ApiConfig, type ApiShape, type AppError, defineApi, type ErrorFormat, ValidationError } from "@authplane/service-kit";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import type { ServiceErrorCode } from "../errors.js";
import type { AdminCaller, ClientCaller, ServerCaller } from "../scope.js";

/**
 * The passkey API's shape for the endpoint builder: the client API authenticates with the
 * publishable key (`publishableKey`, caller = scope + relying party), the server API with the
 * secret key in HTTP Basic (`passkeyBasic`, caller = scope), the Admin API with the operator
 * token or the secret key (`operatorToken`, caller = AdminCaller); three per-IP limits.
 */
export interface PasskeyApiShape extends ApiShape {
  deps: AppDeps;
  callers: { publishableKey: ClientCaller; passkeyBasic: ServerCaller; operatorToken: AdminCaller };
  limits: "clientIp" | "serverIp" | "adminIp";
  codes: ServiceErrorCode;
}

/** The secret key in HTTP Basic (server API; also accepted by the Admin API). */
const SECRET_KEY_SCHEME = {
  schemeName: "passkeySecretKey",
  scheme: {
    type: "http",
    scheme: "basic",
    description: "Server API: HTTP Basic with a blank username and the secret key (sk_… or the SDKs' secret_sk_…) as the password.",
  },
} as const;

/** Seed 003's error answer: `{"result": null, "errors": [{code, message}]}` (codes as declared). */
function errorSchema(codes: readonly [ServiceErrorCode, ...ServiceErrorCode[]]) {
  return z.object({
    result: z.null(),
    errors: z.array(z.object({ code: z.enum(codes), message: z.string() })).min(1),
  });
}

const config: ApiConfig<PasskeyApiShape> = {
  errorSchema,
  auth: {
    publishableKey: {
      schemeName: "passkeyPublishableKey",
      scheme: {
        type: "http",
        scheme: "basic",
        description: "Client API: HTTP Basic with the publishable key (pk_…) as the username and a blank password.",
      },
      errors: {
        400: ["InvalidAuthorizationHeader", "PublishableKeyNotFound"],
        // No relying party configured; an Origin that is not one of the organization's.
        403: ["PermissionViolation"],
        429: ["TooManyRequests"],
      },
    },
    passkeyBasic: {
      ...SECRET_KEY_SCHEME,
      errors: { 400: ["InvalidAuthorizationHeader", "SecretKeyNotFound", "SecretKeyExpired"], 429: ["TooManyRequests"] },
    },
    // Admin API: the operator token naming the organization and mode, or the organization's secret key.
    operatorToken: {
      schemeName: "passkeyOperatorToken",
      scheme: {
        type: "http",
        scheme: "bearer",
        description:
          "Admin API: `Authorization: Bearer <OPERATOR_TOKEN>` (the platform's operator) with `X-Organization-Id: org_…` and `X-Mode: live|test`. " +
          "The organization's secret key (HTTP Basic, as the server API) is accepted too; its organization and mode are the scope.",
      },
      alternatives: [SECRET_KEY_SCHEME],
      errors: {
        // Headers missing/malformed with the operator token; a secret key's own errors (as the server API).
        400: ["InvalidInput", "InvalidAuthorizationHeader", "SecretKeyNotFound", "SecretKeyExpired"],
        401: ["InvalidAuthorizationHeader"],
        429: ["TooManyRequests"],
      },
    },
  },
  limits: {
    clientIp: { description: "RATE_LIMIT_IP_PER_MINUTE per client IP group (default 120/min), before the key is looked up." },
    serverIp: { description: "RATE_LIMIT_SERVER_IP_PER_MINUTE per client IP group (default 6,000/min), before the key is looked up." },
    adminIp: { description: "RATE_LIMIT_ADMIN_IP_PER_MINUTE per client IP group (default 600/min), before the token or key is checked." },
  },
  limitErrors: { 429: ["TooManyRequests"] },
  // Hostile or unreadable input (any route, before it runs), a body over the limit, 500, 503.
  commonErrors: { 400: ["InvalidInput"], 413: ["InvalidInput"], 500: ["InternalError"], 503: ["InternalError"] },
  validationErrors: { 400: ["InvalidInput"] },
};

/** The passkey APIs: every answer wrapped `{result, errors}` (seed 003; `errors` is `[]` on success). */
export const passkeyApi = defineApi<PasskeyApiShape>({
  ...config,
  envelope: {
    wrap: (result) => ({ result, errors: [] }),
    schema: (result) => z.object({ result, errors: z.array(PasskeyError).max(0) }),
  },
});

/**
 * The Admin API (issue 14): answers as the contract shapes them (`{data, nextCursor}`, a credential,
 * the stats), not wrapped; errors in the service's one format (wrapped, seed 003 codes).
 */
export const adminApi = defineApi<PasskeyApiShape>({ ...config, tags: ["Admin API"] });

/** The demo's endpoints: same errors, answers not wrapped (pages, files, relayed answers). */
export const demoApi = defineApi<PasskeyApiShape>({ ...config, tags: ["Demo"] });

// ---- the wire format of errors (the app's one error middleware renders every error with it) ----

const SEED_CODES = new Set<string>([...PasskeyErrorCode.options, "TooManyRequests"]);

/** Kit codes (validation, 404, body parser, 503, 500) mapped to seed 003 codes. */
function codeOf(err: AppError): ServiceErrorCode {
  if (SEED_CODES.has(err.code)) return err.code as ServiceErrorCode;
  if (err.status === 429) return "TooManyRequests";
  if (err.status === 404) return "EntityNotFound";
  if (err.status >= 500) return "InternalError";
  return "InvalidInput";
}

function messageOf(err: AppError, code: ServiceErrorCode): string {
  if (err instanceof ValidationError) {
    const parts = err.issues.map((i) => `${i.path.length ? i.path.join(".") : "(body)"}: ${i.message}`);
    return `Invalid input. ${parts.join("; ")}`;
  }
  // 500s disclose nothing (seed: "refusing to disclose additional details").
  if (code === "InternalError" && err.status === 500) return "An internal error has occurred.";
  return err.message;
}

/** Seed 003 wrapped format: `{"result": null, "errors": [{code, message}]}` for every error. */
export const wrappedErrorFormat: ErrorFormat = {
  body(err) {
    const code = codeOf(err);
    return { result: null, errors: [{ code, message: messageOf(err, code) }] };
  },
};
