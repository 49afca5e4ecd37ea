import type { Mode } from "@authplane/contracts";
import { type ApiConfig, type ApiShape, consumerErrorSchema, defineApi } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import type { ServiceErrorCode } from "../errors.js";

/** The caller of an admin endpoint: the operator, acting on the organization and mode it named. */
interface AdminCaller {
  scope: { organizationId: string; mode: Mode };
  actor: "operator";
}

/**
 * otp-delivery's shape for the endpoint builder: the admin endpoints authenticate with the operator
 * token (`operatorToken`, plus X-Organization-Id / X-Mode) behind a per-IP limit; the development
 * outbox is unauthenticated and unlimited (dev transport only).
 */
export interface OtpApiShape extends ApiShape {
  deps: AppDeps;
  callers: { operatorToken: AdminCaller };
  limits: "ip";
  codes: ServiceErrorCode;
}

const config: ApiConfig<OtpApiShape> = {
  errorSchema: consumerErrorSchema,
  auth: {
    operatorToken: {
      schemeName: "otpOperatorToken",
      scheme: {
        type: "http",
        scheme: "bearer",
        description:
          "Admin API: `Authorization: Bearer <OPERATOR_TOKEN>` (the platform operator) with `X-Organization-Id: org_…` and " +
          "`X-Mode: live|test` naming whose deliveries.",
      },
      // 401: token missing or wrong; 400: token right, scope headers missing or malformed.
      errors: { 400: ["validation_error"], 401: ["Authentication required"] },
    },
  },
  limits: {
    ip: { description: "RATE_LIMIT_IP_PER_MINUTE per client IP group (default 300/min), before the token is checked." },
  },
  limitErrors: { 429: ["rate_limited"] },
  // Hostile or unreadable input (any route, before it runs), 500, 503.
  commonErrors: { 400: ["validation_error", "bad_request"], 500: ["internal_error"], 503: ["service_unavailable"] },
  validationErrors: { 400: ["validation_error"] },
};

/** otp-delivery's API (seed 000 format: answers as they are, errors `{"error", "message"?}`). */
export const otpApi = defineApi<OtpApiShape>(config);
