import { type ApiConfig, type ApiShape, type AppError, consumerErrorSchema, defineApi, SEED_COMMON_ERRORS } from "@authplane/service-kit";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import type { ServiceErrorCode } from "../errors.js";
import type { OperatorCaller, SecretKeyCaller } from "../scope.js";

/**
 * admin-key's shape for the endpoint builder: the operator API authenticates with the operator
 * token (`operatorToken`), the Admin API with the organization's secret key (`secretKey`); one
 * per-IP limit in front of both.
 */
export interface AdminApiShape extends ApiShape {
  deps: AppDeps;
  callers: { operatorToken: OperatorCaller; secretKey: SecretKeyCaller };
  limits: "ip";
  codes: ServiceErrorCode;
}

const authErrors = {
  401: ["Authentication required"],
  429: ["rate_limited"],
} as const;

const config: ApiConfig<AdminApiShape> = {
  errorSchema: consumerErrorSchema,
  auth: {
    operatorToken: {
      schemeName: "adminOperatorToken",
      scheme: {
        type: "http",
        scheme: "bearer",
        description: "Operator API: `Authorization: Bearer <OPERATOR_TOKEN>` (the platform's operator).",
      },
      errors: authErrors,
    },
    secretKey: {
      schemeName: "adminSecretKey",
      scheme: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "sk_live_… / sk_test_…",
        description: "Admin API: `Authorization: Bearer sk_…`, the organization's secret key; it acts in its own mode (live or test) only.",
      },
      errors: { ...authErrors, 403: ["Secret key required"] },
    },
  },
  limits: {
    ip: { description: "RATE_LIMIT_IP_PER_MINUTE per client IP group (default 300/min), before the token or key is checked." },
  },
  limitErrors: { 429: ["rate_limited"] },
  // Hostile or unreadable input (any route, before it runs), a body over the limit, 500, 503.
  commonErrors: SEED_COMMON_ERRORS,
  validationErrors: { 400: ["validation_error"] },
};

/** admin-key's API (seed 000 format: answers as they are, errors `{"error", "message"?}`). */
export const adminApi = defineApi<AdminApiShape>(config);

/**
 * A path id that must match `schema`, else `notFound()` (the 404 an unknown id gets, so a
 * malformed id is not told apart from a missing one; taken before the body is read).
 */
export function pathId<T extends string>(schema: z.ZodType<T>, notFound: () => AppError, description: string) {
  return z
    .string()
    .meta({ description })
    .transform((value): T => {
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw notFound();
      return parsed.data;
    });
}
