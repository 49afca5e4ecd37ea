import { type Authenticators, bearerToken, clientIpGroup, hasOperatorToken, type LimitImpl, RateLimit } from "@authplane/service-kit";
import type { Request } from "express";
import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";
import { verifyApiKey } from "../usecases/verify-api-key.js";
import type { AdminApiShape } from "./api.js";

/**
 * admin-key's authenticators (the endpoint builder calls the one of an endpoint's auth kind; its
 * result is the handler's typed `caller`). Both take the caller's own budget
 * (RATE_LIMIT_KEY_PER_MINUTE) once authenticated.
 * - `secretKey` (Admin API): `Authorization: Bearer sk_…`. Unknown, revoked and expired keys get
 *   the seed's 401; a valid publishable key gets the seed's 403. The lookup is direct (admin-key
 *   owns the keys), so a revocation applies to the very next request.
 * - `operatorToken` (operator API): both sides are hashed to a fixed length before a
 *   constant-time compare, so neither the content nor the length of the token leaks through timing.
 */
export function adminAuthenticators(deps: AppDeps): Authenticators<AdminApiShape> {
  const perCaller = new RateLimit(deps.redis, { name: "key", points: deps.env.RATE_LIMIT_KEY_PER_MINUTE, durationSeconds: 60 });
  return {
    secretKey: async (req) => {
      const token = bearerToken(req.headers.authorization);
      if (!token) throw Errors.authenticationRequired();
      const verified = await verifyApiKey(deps, { key: token });
      if (!verified) throw Errors.authenticationRequired();
      if (verified.reply.kind !== "secret") throw Errors.secretKeyRequired();
      await perCaller.consume(verified.key.id);
      return { scope: { organizationId: verified.reply.organizationId, mode: verified.reply.mode }, keyId: verified.key.id };
    },
    operatorToken: async (req) => {
      if (!hasOperatorToken(req, deps.env.OPERATOR_TOKEN)) throw Errors.authenticationRequired();
      await perCaller.consume("operator");
      return { operator: true };
    },
  };
}

/**
 * The per client IP group limit (RATE_LIMIT_IP_PER_MINUTE; behind the gateway the IP comes from
 * its trusted X-Forwarded-For, IPv6 grouped by RATE_LIMIT_IPV6_PREFIX), taken before the token or
 * key is checked, so that guessing keys or the operator token is throttled.
 */
export function adminLimits(deps: AppDeps): Record<AdminApiShape["limits"], LimitImpl> {
  return {
    ip: {
      limit: new RateLimit(deps.redis, { name: "ip", points: deps.env.RATE_LIMIT_IP_PER_MINUTE, durationSeconds: 60 }),
      key: (req) => clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX),
    },
  };
}
