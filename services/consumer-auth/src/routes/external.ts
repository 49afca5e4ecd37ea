import { ExternalAuthorizeRequest, ExternalExchangeRequest } from "@authplane/contracts";
import { clientIp, parseInput } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { requirePublishableKey, requireSecretKey, sameScope, verifiedKey } from "../http/auth.js";
import { authorizeExternal } from "../usecases/authorize-external.js";
import { exchangeCode } from "../usecases/exchange-code.js";
import { bearerToken, verifySessionToken } from "../usecases/verify-access-token.js";

export function externalRouter(deps: AppDeps): Router {
  const router = Router();

  router.post("/external/authorize", requireSecretKey(deps), async (req, res) => {
    const body = parseInput(ExternalAuthorizeRequest, req.body);
    res.status(200).json(await authorizeExternal(deps, { key: verifiedKey(res), body }));
  });

  router.post("/external/exchange", requirePublishableKey(deps), async (req, res) => {
    const key = verifiedKey(res);
    const body = parseInput(ExternalExchangeRequest, req.body);
    // Optional guest access token: checked BEFORE the code is consumed, so a bad token does not burn it.
    const bearer = bearerToken(req.headers.authorization);
    let guest = null;
    if (bearer) {
      // An expired token still identifies its (live) guest session: see verifySessionToken.
      guest = await verifySessionToken(deps, bearer, key.settings);
      if (!guest) throw appError(ErrorCatalog.invalidAccessToken);
      if (!sameScope(key, guest)) throw appError(ErrorCatalog.keyMismatch);
    }
    const session = await exchangeCode(deps, {
      key,
      exchangeCode: body.exchangeCode,
      guest,
      ip: clientIp(req),
      userAgent: req.headers["user-agent"],
    });
    res.status(200).json(session);
  });

  return router;
}
