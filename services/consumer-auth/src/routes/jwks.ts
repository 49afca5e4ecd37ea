import { Router } from "express";
import type { AppDeps } from "../deps.js";

/** GET /.well-known/jwks.json: every public key whose tokens may still be alive. */
export function jwksRouter(deps: AppDeps): Router {
  const router = Router();
  router.get("/.well-known/jwks.json", (_req, res) => {
    // A rotated-in key is listed here longer than this before it signs (signingKeyActivationDelaySeconds),
    // and retired keys stay listed until their last token expired, so a cache never misses a live kid.
    res.setHeader("Cache-Control", `public, max-age=${deps.env.JWKS_MAX_AGE_SECONDS}`);
    res.status(200).json(deps.tokens.jwks());
  });
  return router;
}
