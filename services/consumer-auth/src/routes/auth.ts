import { Mode, OrganizationId, parseApiKeyPrefix, type VerifiedKey } from "@authplane/contracts";
import {
  AppError,
  type Authenticator,
  type Authenticators,
  bearerToken,
  clientIpGroup,
  crossOrigin,
  hasOperatorToken,
  type LimitImpl,
  operatorNamedScope,
  safeEqual,
  ValidationError,
} from "@authplane/service-kit";
import type { Request } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { keyBudgetHash, keyBudgetTakenByGate } from "../limits/request-gate.js";
import { type AdminCaller, sameScope, type Scope } from "../scope.js";
import { verifySessionToken } from "../usecases/verify-access-token.js";
import type { ConsumerApiShape, InternalCaller } from "./api.js";
import { assertOriginAllowed, organizationSettings } from "./cors.js";

/**
 * The endpoints' rate limits, taken before auth (the builder runs them in the declared order):
 * the public and /check limits through the RequestGate (every limit of the request, and /check's
 * revocation read, in ONE Redis round trip); /introspect's gateway per-IP budget.
 */
export function consumerLimits(deps: AppDeps): Record<ConsumerApiShape["limits"], LimitImpl> {
  return {
    publicIp: { take: (req) => deps.requestGate.takePublic(req, false) },
    publicIpAndKey: { take: (req) => deps.requestGate.takePublic(req, true) },
    gatewayIp: { limit: deps.rateLimits.gatewayIp, key: (req) => clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX) },
    check: { take: (req) => deps.requestGate.takeCheck(req) },
  };
}

/**
 * Takes the key's budget before the key is looked up: a secret key's own bucket; a publishable
 * key's bucket per (key, client IP group) under the key-wide ceiling. Buckets are keyed by a hash:
 * raw keys never reach Redis.
 */
async function consumeKeyBudget(deps: AppDeps, req: Request, key: string): Promise<void> {
  const hash = keyBudgetHash(key);
  if (keyBudgetTakenByGate(req, hash)) return; // already taken in the request's first Redis round trip
  if (key.startsWith("pk_")) await deps.rateLimits.publishableKey.consume(hash, clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX));
  else await deps.rateLimits.key.consume(hash);
}

async function checkKey(deps: AppDeps, req: Request, key: string): Promise<VerifiedKey | null> {
  if (key.length > 200 || !parseApiKeyPrefix(key)) return null;
  await consumeKeyBudget(deps, req, key);
  return deps.keyVerifier.verify(key);
}

/**
 * The consumer API's authenticators (the builder calls the one of an endpoint's auth kind; its
 * result is the handler's typed `caller`). `internalToken` differs by endpoint (see
 * `internalAuthenticators`): this map has /introspect's, app.ts mounts /check with its own.
 */
export function consumerAuthenticators(deps: AppDeps): Authenticators<ConsumerApiShape> {
  return {
    publishableKey: async (req, res) => ({ key: await publishableKey(deps, req, res) }),
    secretKey: async (req) => ({ key: await secretKey(deps, req) }),
    bearerAccessToken: async (req, res) => ({ claims: await sessionTokenHolder(deps, req, res) }),
    internalToken: internalAuthenticators(deps).introspect,
    operatorToken: (req) => adminCaller(deps, req),
  };
}

/**
 * The Admin API's caller: `Authorization: Bearer <OPERATOR_TOKEN>` (constant-time compare) with
 * `X-Organization-Id` + `X-Mode` naming the scope (missing or malformed: 400 validation_error),
 * or `Bearer sk_…`, the organization's secret key, whose own organization and mode are the scope
 * (the headers are not read then: a key never reaches another organization). A publishable key:
 * 403; anything else: 401.
 */
async function adminCaller(deps: AppDeps, req: Request): Promise<AdminCaller> {
  if (hasOperatorToken(req, deps.env.OPERATOR_TOKEN)) {
    const scope = operatorNamedScope(req);
    if (!scope) {
      throw new ValidationError([
        {
          path: ["headers", "x-organization-id"],
          message: "The operator names the organization and mode: X-Organization-Id (org_…) and X-Mode (live or test).",
          code: "scope_required",
        },
      ]);
    }
    return { scope, actor: "operator" };
  }
  const key = await secretKey(deps, req);
  return { scope: { organizationId: key.organizationId, mode: key.mode }, actor: "secretKey" };
}

/**
 * `X-Publishable-Key: pk_…` (valid, unexpired, publishable); else 401. A browser page on another
 * origin must be one of the key's organization's allowed origins (of the key's mode): else 403
 * `origin_not_allowed` before anything else happens.
 */
async function publishableKey(deps: AppDeps, req: Request, res: Parameters<Authenticator<unknown>>[1]): Promise<VerifiedKey> {
  const raw = req.headers["x-publishable-key"];
  if (typeof raw !== "string" || !raw.startsWith("pk_")) throw appError(ErrorCatalog.authenticationRequired);
  const key = await checkKey(deps, req, raw.trim());
  if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
  assertOriginAllowed(req, res, key.settings);
  return key;
}

/**
 * `Authorization: Bearer sk_…`. A valid publishable key where a secret key is required (in the
 * bearer or in X-Publishable-Key) -> 403 "Secret key required"; nothing valid -> 401.
 */
async function secretKey(deps: AppDeps, req: Request): Promise<VerifiedKey> {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer?.startsWith("sk_")) {
    const key = await checkKey(deps, req, bearer);
    if (key?.kind !== "secret") throw appError(ErrorCatalog.authenticationRequired);
    return key;
  }
  const pk = bearer?.startsWith("pk_") ? bearer : req.headers["x-publishable-key"];
  if (typeof pk === "string" && pk.startsWith("pk_")) {
    const key = await checkKey(deps, req, pk.trim());
    if (key) throw appError(ErrorCatalog.secretKeyRequired);
  }
  throw appError(ErrorCatalog.authenticationRequired);
}

/**
 * The holder of `Authorization: Bearer <access token>` (logout). When the client also sends its
 * X-Publishable-Key (the SDKs do), the token must belong to that key's organization and mode. An
 * expired token of a live, unrevoked session is accepted (a session can always be ended; see
 * verifySessionToken). A page on another origin must be allowed by the token's organization.
 */
async function sessionTokenHolder(deps: AppDeps, req: Request, res: Parameters<Authenticator<unknown>>[1]) {
  const token = bearerToken(req.headers.authorization);
  const claims = token ? await verifySessionToken(deps, token) : null;
  if (!claims) throw appError(ErrorCatalog.authenticationRequired);
  const pk = req.headers["x-publishable-key"];
  if (typeof pk === "string") {
    let key = null;
    if (pk.length <= 200 && parseApiKeyPrefix(pk)) {
      // The key's budget (per key and client) before the lookup, as on every keyed endpoint.
      await consumeKeyBudget(deps, req, pk);
      key = await deps.keyVerifier.verify(pk);
    }
    if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
    assertOriginAllowed(req, res, key.settings);
    if (!sameScope(key, claims)) throw appError(ErrorCatalog.keyMismatch);
  } else if (crossOrigin(req) !== null) {
    // No key: the token's organization and mode decide which pages may end its sessions.
    const settings = await organizationSettings(deps, { organizationId: claims.organizationId, mode: claims.mode });
    assertOriginAllowed(req, res, settings ?? { allowedOrigins: [] });
  }
  return claims;
}

function unbound(message: string): AppError {
  return new AppError(401, ErrorCatalog.authenticationRequired.code, message);
}

/**
 * The `internalToken` authenticators of the gateway/internal endpoints; the caller is the
 * organization and mode the answer is bound to (a token of any other scope is refused).
 * - `introspect`: `Authorization: Bearer sk_…` binds to that key's organization and mode;
 *   `Bearer <INTERNAL_INTROSPECTION_TOKEN>` to the ones named in `X-Organization-Id` + `X-Mode`.
 * - `check`: the client's `X-Publishable-Key` (forwarded by the gateway, as seed 000's
 *   authenticated consumer calls carry it) binds to that key's organization and mode; an internal
 *   caller (`X-Internal-Token: <INTERNAL_INTROSPECTION_TOKEN>`) names them in `X-Organization-Id`
 *   + `X-Mode`. When both are present both must agree. With neither: 401.
 */
export function internalAuthenticators(deps: AppDeps): { introspect: Authenticator<InternalCaller>; check: Authenticator<InternalCaller> } {
  /** Does `value` carry the internal caller credential (INTERNAL_INTROSPECTION_TOKEN, when set)? */
  const isInternal = (value: string | null | undefined): boolean => {
    const internal = deps.env.INTERNAL_INTROSPECTION_TOKEN;
    return typeof value === "string" && internal !== "" && safeEqual(value, internal);
  };
  /** The scope an internal caller names explicitly (both headers required); read only once it proved the token. */
  const namedScope = (req: Request): Scope => {
    const org = OrganizationId.safeParse(req.headers["x-organization-id"]);
    const mode = Mode.safeParse(req.headers["x-mode"]);
    if (!org.success || !mode.success)
      throw unbound("An internal caller must name the organization and mode (X-Organization-Id and X-Mode).");
    return { organizationId: org.data, mode: mode.data };
  };
  return {
    introspect: async (req) => {
      const bearer = bearerToken(req.headers.authorization);
      if (isInternal(bearer)) return { scope: namedScope(req) };
      if (bearer && parseApiKeyPrefix(bearer)) {
        await consumeKeyBudget(deps, req, bearer);
        const key = await deps.keyVerifier.verify(bearer);
        if (!key) throw appError(ErrorCatalog.authenticationRequired);
        if (key.kind !== "secret") throw appError(ErrorCatalog.secretKeyRequired);
        return { scope: key };
      }
      throw appError(ErrorCatalog.authenticationRequired);
    },
    check: async (req) => {
      const internal = req.headers["x-internal-token"];
      const named = isInternal(typeof internal === "string" ? internal : null) ? namedScope(req) : null;
      const pk = req.headers["x-publishable-key"];
      if (typeof pk === "string") {
        const raw = pk.trim();
        let key = null;
        if (raw.length <= 200 && raw.startsWith("pk_") && parseApiKeyPrefix(raw)) {
          await consumeKeyBudget(deps, req, raw);
          key = await deps.keyVerifier.verify(raw);
        }
        if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
        if (named && !sameScope(key, named)) throw appError(ErrorCatalog.authenticationRequired);
        return { scope: key };
      }
      if (named) return { scope: named };
      throw unbound("X-Publishable-Key is required: the token is only valid for its own organization and mode.");
    },
  };
}
