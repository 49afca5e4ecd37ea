import { Router } from "express";
import type { AppDeps } from "../deps.js";

/** GET /.well-known/jwks.json: every public key whose tokens may still be alive. */
export function jwksRouter(deps: AppDeps): Router {
  const router = Router();
  router.get("/.well-known/jwks.json", (_req, res) => {
    // Five minutes: a new key is published before any instance signs with it only after a reload,
    // and retired keys stay listed far longer than this, so caches never miss a live kid for long.
    res.setHeader("Cache-Control", "public, max-age=300");
    res.status(200).json(deps.tokens.jwks());
  });
  return router;
}
