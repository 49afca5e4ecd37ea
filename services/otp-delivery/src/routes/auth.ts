import { Mode, OrganizationId } from "@authplane/contracts";
import {
  type Authenticators,
  clientIpGroup,
  hasOperatorToken,
  type LimitImpl,
  operatorNamedScope,
  RateLimit,
} from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";
import type { OtpApiShape } from "./api.js";

/**
 * `operatorToken`: `Authorization: Bearer <OPERATOR_TOKEN>` (constant-time compare, service-kit
 * `hasOperatorToken`), else 401; then the organization and mode the operator names in
 * `X-Organization-Id` / `X-Mode` (`operatorNamedScope`), else 400 `validation_error` naming the
 * header(s). The headers are read only once the token is proven.
 */
export function otpAuthenticators(deps: AppDeps): Authenticators<OtpApiShape> {
  return {
    operatorToken: (req) => {
      if (!hasOperatorToken(req, deps.env.OPERATOR_TOKEN)) throw Errors.authenticationRequired();
      const scope = operatorNamedScope(req);
      if (!scope) {
        const bad = [
          ...(OrganizationId.safeParse(req.headers["x-organization-id"]).success ? [] : ["x-organization-id"]),
          ...(Mode.safeParse(req.headers["x-mode"]).success ? [] : ["x-mode"]),
        ];
        throw Errors.scopeHeadersRequired(bad);
      }
      return { scope, actor: "operator" };
    },
  };
}

/**
 * The per client IP group limit of the admin endpoints (RATE_LIMIT_IP_PER_MINUTE; behind the
 * gateway or the edge the IP comes from their trusted X-Forwarded-For, IPv6 grouped by
 * RATE_LIMIT_IPV6_PREFIX), taken before the token is checked so that guessing it is throttled.
 * Redis-backed, so every instance shares the budget.
 */
export function otpLimits(deps: AppDeps): Record<OtpApiShape["limits"], LimitImpl> {
  return {
    ip: {
      limit: new RateLimit(deps.redis, { name: "admin-ip", points: deps.env.RATE_LIMIT_IP_PER_MINUTE, durationSeconds: 60 }),
      key: (req) => clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX),
    },
  };
}
