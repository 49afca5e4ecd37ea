import { type ApiConfig, type ApiShape, consumerErrorSchema, defineApi } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import type { ServiceErrorCode } from "../errors.js";

/** otp-delivery's shape for the endpoint builder: one unauthenticated development route, no limits. */
export interface OtpApiShape extends ApiShape {
  deps: AppDeps;
  callers: Record<never, never>;
  limits: never;
  codes: ServiceErrorCode;
}

const config: ApiConfig<OtpApiShape> = {
  errorSchema: consumerErrorSchema,
  auth: {},
  limits: {},
  // Hostile or unreadable input (any route, before it runs), 500, 503.
  commonErrors: { 400: ["validation_error", "bad_request"], 500: ["internal_error"], 503: ["service_unavailable"] },
  validationErrors: { 400: ["validation_error"] },
};

/** otp-delivery's API (seed 000 format: answers as they are, errors `{"error", "message"?}`). */
export const otpApi = defineApi<OtpApiShape>(config);
