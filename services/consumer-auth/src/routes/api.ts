import type { VerifiedKey } from "@authplane/contracts";
import {
  type ApiConfig,
  type ApiShape,
  consumerErrorSchema,
  defineApi,
  SEED_COMMON_ERRORS,
  type SecurityScheme,
} from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { type ConsumerErrorCode, ErrorCatalog, OtpErrors } from "../errors.js";
import type { AdminCaller, Scope } from "../scope.js";
import type { AccessTokenClaims } from "../tokens/access-token-claims.js";

/** A key checked by the `publishableKey` / `secretKey` authenticators (routes/auth.ts). */
interface KeyCaller {
  key: VerifiedKey;
}

/** The holder of an access token (logout): its claims, checked against the key it sent if any. */
interface TokenCaller {
  claims: AccessTokenClaims;
}

/** A gateway or internal service (/introspect, /check): the organization and mode its answers are bound to. */
export interface InternalCaller {
  scope: Scope;
}

/**
 * The consumer API's shape for the endpoint builder: the customer's pages and apps call it with
 * `X-Publishable-Key` (`publishableKey`), its server with `Bearer sk_…` (`secretKey`), a signed-in
 * consumer with its access token (`bearerAccessToken`, logout), gateways and internal services
 * with the internal token or the key they forward (`internalToken`, /introspect and /check); the
 * Admin API the operator token or the organization's secret key (`operatorToken`).
 */
export interface ConsumerApiShape extends ApiShape {
  deps: AppDeps;
  callers: {
    publishableKey: KeyCaller;
    secretKey: KeyCaller;
    bearerAccessToken: TokenCaller;
    internalToken: InternalCaller;
    operatorToken: AdminCaller;
  };
  limits: "publicIp" | "publicIpAndKey" | "gatewayIp" | "check";
  codes: ConsumerErrorCode;
}

const AUTH_REQUIRED = ErrorCatalog.authenticationRequired.code;
const RATE_LIMITED = ErrorCatalog.rateLimited.code;
const SECRET_KEY_SCHEME: SecurityScheme = {
  type: "http",
  scheme: "bearer",
  bearerFormat: "sk_…",
  description: "The organization's secret key: servers only.",
};

const config: ApiConfig<ConsumerApiShape> = {
  // Seed 000's error answer (`consumerErrorFormat`): `{error, message?, retryAfter?, errorId?}`, or `{error: "validation_error", issues}`.
  errorSchema: consumerErrorSchema,
  auth: {
    publishableKey: {
      schemeName: "consumerPublishableKey",
      scheme: {
        type: "apiKey",
        in: "header",
        name: "X-Publishable-Key",
        description: "The organization's publishable key (pk_live_… / pk_test_…): pages and apps. A page's Origin must be allowed.",
      },
      errors: { 401: [AUTH_REQUIRED], 403: [ErrorCatalog.originNotAllowed.code], 429: [RATE_LIMITED] },
    },
    secretKey: {
      schemeName: "consumerSecretKey",
      scheme: SECRET_KEY_SCHEME,
      errors: { 401: [AUTH_REQUIRED], 403: [ErrorCatalog.secretKeyRequired.code], 429: [RATE_LIMITED] },
    },
    bearerAccessToken: {
      schemeName: "consumerAccessToken",
      scheme: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "A consumer's access token (EdDSA JWT); with X-Publishable-Key when the client has it (the SDKs send it).",
      },
      errors: {
        401: [AUTH_REQUIRED, ErrorCatalog.keyMismatch.code],
        403: [ErrorCatalog.originNotAllowed.code],
        429: [RATE_LIMITED],
      },
    },
    internalToken: {
      schemeName: "consumerInternalToken",
      scheme: {
        type: "apiKey",
        in: "header",
        name: "X-Internal-Token",
        description:
          "Gateways and internal services: INTERNAL_INTROSPECTION_TOKEN (X-Internal-Token on /check, Bearer on /introspect) with " +
          "X-Organization-Id + X-Mode; or the key they forward (X-Publishable-Key on /check, Bearer sk_… on /introspect).",
      },
      errors: { 401: [AUTH_REQUIRED], 403: [ErrorCatalog.secretKeyRequired.code], 429: [RATE_LIMITED] },
    },
    operatorToken: {
      schemeName: "consumerOperatorToken",
      scheme: {
        type: "http",
        scheme: "bearer",
        description:
          "The platform operator's OPERATOR_TOKEN, with `X-Organization-Id: org_…` and `X-Mode: live|test` naming the organization " +
          "and mode the call is about (missing or malformed: 400).",
      },
      // The same endpoints take the organization's secret key (its own organization and mode).
      alternatives: [
        {
          schemeName: "consumerSecretKey",
          scheme: SECRET_KEY_SCHEME,
        },
      ],
      errors: {
        400: ["validation_error"],
        401: [AUTH_REQUIRED],
        403: [ErrorCatalog.secretKeyRequired.code],
        429: [RATE_LIMITED],
      },
    },
  },
  limits: {
    publicIp: { description: "RATE_LIMIT_IP_PER_MINUTE per client IP group, before anything else." },
    publicIpAndKey: {
      description:
        "RATE_LIMIT_IP_PER_MINUTE per client IP group, then the publishable key's budget per (key, client IP group) and key-wide " +
        "(RATE_LIMIT_PUBLISHABLE_KEY_CLIENT_PER_MINUTE, RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE), in one Redis round trip before the key is looked up.",
    },
    gatewayIp: {
      description: "RATE_LIMIT_GATEWAY_IP_PER_MINUTE per client IP group (a gateway forwarding no client address is one client).",
    },
    check: {
      description:
        "RATE_LIMIT_GATEWAY_IP_PER_MINUTE per client IP group and the forwarded publishable key's budget, with the token's revocation " +
        "read, in one Redis round trip.",
    },
  },
  limitErrors: { 429: [RATE_LIMITED] },
  // Hostile or unreadable input (any route, before it runs), a body over the limit, 500, 503.
  commonErrors: SEED_COMMON_ERRORS,
  validationErrors: { 400: ["validation_error"] },
};

/** The consumer API (seed 000): answers as they are, errors `{error, message?}`. */
export const consumerApi = defineApi<ConsumerApiShape>({ ...config, tags: ["Consumer API"] });

/** The Admin API (issue 14): consumers, sessions and sign-in numbers of one organization and mode. */
export const adminApi = defineApi<ConsumerApiShape>({ ...config, tags: ["Admin API"] });

/** The JWKS, the demo page and the like: same errors, other tag. */
export const publicApi = defineApi<ConsumerApiShape>(config);

/** OTP error codes by status, for the OTP endpoints' declarations. */
export const otpCodes = {
  request: {
    403: [OtpErrors.smsCountryNotAllowed.code],
    429: [
      OtpErrors.resendCooldown.code,
      OtpErrors.identityRateLimited.code,
      OtpErrors.countryRateLimited.code,
      OtpErrors.orgSmsLimited.code,
      OtpErrors.identityLocked.code,
      OtpErrors.ipRateLimited.code,
    ],
  },
  verify: {
    401: [
      OtpErrors.expired.code,
      OtpErrors.invalid.code,
      OtpErrors.attemptsExceeded.code,
      ErrorCatalog.invalidAccessToken.code,
      ErrorCatalog.keyMismatch.code,
    ],
    429: [OtpErrors.identityLocked.code, OtpErrors.verifyDelayed.code, OtpErrors.ipRateLimited.code],
  },
} as const;
