import { type Mode, parseApiKeyPrefix, type VerifiedKey } from "@authplane/contracts";
import { clientIpGroup } from "@authplane/service-kit";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { keyBudgetHash, keyBudgetTakenByGate } from "../limits/request-gate.js";
import { assertOriginAllowed } from "./cors.js";
import { bearerToken } from "../usecases/verify-access-token.js";

/** The key verified by `requirePublishableKey` / `requireSecretKey` for this request. */
export function verifiedKey(res: Response): VerifiedKey {
  const key = res.locals.verifiedKey as VerifiedKey | undefined;
  if (!key) throw appError(ErrorCatalog.authenticationRequired);
  return key;
}

/**
 * Per-IP limit on every public endpoint (IP from Express `trust proxy`, i.e. TRUST_PROXY; IPv6
 * grouped by RATE_LIMIT_IPV6_PREFIX). `gateway`: the separate, higher budget of /introspect and /check.
 */
export function limitByIp(deps: AppDeps, which: "public" | "gateway" = "public"): RequestHandler {
  const limit = which === "gateway" ? deps.rateLimits.gatewayIp : deps.rateLimits.ip;
  return async (req: Request, _res: Response, next: NextFunction) => {
    await limit.consume(clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX));
    next();
  };
}

/**
 * Takes the key's budget before the key is looked up: a secret key's own bucket; a publishable
 * key's bucket per (key, client IP group) under the key-wide ceiling. Buckets are keyed by a hash:
 * raw keys never reach Redis.
 */
export async function consumeKeyBudget(deps: AppDeps, req: Request, key: string): Promise<void> {
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
 * `X-Publishable-Key: pk_…` (valid, unexpired, publishable) -> res.locals.verifiedKey; else 401.
 * A browser page on another origin must be one of the key's organization's allowed origins
 * (of the key's mode): else 403 `origin_not_allowed` before anything else happens.
 */
export function requirePublishableKey(deps: AppDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const raw = req.headers["x-publishable-key"];
    if (typeof raw !== "string" || !raw.startsWith("pk_")) throw appError(ErrorCatalog.authenticationRequired);
    const key = await checkKey(deps, req, raw.trim());
    if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
    assertOriginAllowed(req, res, key.settings);
    res.locals.verifiedKey = key;
    next();
  };
}

/**
 * `Authorization: Bearer sk_…`. A valid publishable key where a secret key is required (in the
 * bearer or in X-Publishable-Key) -> 403 "Secret key required"; nothing valid -> 401.
 */
export function requireSecretKey(deps: AppDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const bearer = bearerToken(req.headers.authorization);
    if (bearer?.startsWith("sk_")) {
      const key = await checkKey(deps, req, bearer);
      if (key?.kind !== "secret") throw appError(ErrorCatalog.authenticationRequired);
      res.locals.verifiedKey = key;
      next();
      return;
    }
    const pk = bearer?.startsWith("pk_") ? bearer : req.headers["x-publishable-key"];
    if (typeof pk === "string" && pk.startsWith("pk_")) {
      const key = await checkKey(deps, req, pk.trim());
      if (key) throw appError(ErrorCatalog.secretKeyRequired);
    }
    throw appError(ErrorCatalog.authenticationRequired);
  };
}

/** Does a token's scope match the key's organization and mode (live with live, test with test)? */
export function sameScope(key: { organizationId: string; mode: Mode }, claims: { organizationId: string; mode: Mode }): boolean {
  return key.organizationId === claims.organizationId && key.mode === claims.mode;
}
