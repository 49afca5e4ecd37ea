import { createHash } from "node:crypto";
import { type Mode, parseApiKeyPrefix, type VerifiedKey } from "@authplane/contracts";
import { clientIp } from "@authplane/service-kit";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { assertOriginAllowed } from "./cors.js";
import { bearerToken } from "../usecases/verify-access-token.js";

/** The key verified by `requirePublishableKey` / `requireSecretKey` for this request. */
export function verifiedKey(res: Response): VerifiedKey {
  const key = res.locals.verifiedKey as VerifiedKey | undefined;
  if (!key) throw appError(ErrorCatalog.authenticationRequired);
  return key;
}

/** Per-IP limit on every public endpoint (IP from Express `trust proxy`, i.e. TRUST_PROXY). */
export function limitByIp(deps: AppDeps): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    await deps.rateLimits.ip.consume(clientIp(req));
    next();
  };
}

async function checkKey(deps: AppDeps, key: string): Promise<VerifiedKey | null> {
  if (key.length > 200 || !parseApiKeyPrefix(key)) return null;
  // The bucket is keyed by a hash: raw keys never reach Redis.
  await deps.rateLimits.key.consume(createHash("sha256").update(key).digest("base64url").slice(0, 32));
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
    const key = await checkKey(deps, raw.trim());
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
      const key = await checkKey(deps, bearer);
      if (key?.kind !== "secret") throw appError(ErrorCatalog.authenticationRequired);
      res.locals.verifiedKey = key;
      next();
      return;
    }
    const pk = bearer?.startsWith("pk_") ? bearer : req.headers["x-publishable-key"];
    if (typeof pk === "string" && pk.startsWith("pk_")) {
      const key = await checkKey(deps, pk.trim());
      if (key) throw appError(ErrorCatalog.secretKeyRequired);
    }
    throw appError(ErrorCatalog.authenticationRequired);
  };
}

/** Does a token's scope match the key's organization and mode (live with live, test with test)? */
export function sameScope(key: { organizationId: string; mode: Mode }, claims: { organizationId: string; mode: Mode }): boolean {
  return key.organizationId === claims.organizationId && key.mode === claims.mode;
}
