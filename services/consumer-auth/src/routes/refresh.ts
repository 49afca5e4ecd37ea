import { RefreshRequest } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { requirePublishableKey, verifiedKey } from "../http/auth.js";
import { refreshSession } from "../usecases/refresh-session.js";

export function refreshRouter(deps: AppDeps): Router {
  const router = Router();
  router.post("/refresh", requirePublishableKey(deps), async (req, res) => {
    const body = parseInput(RefreshRequest, req.body);
    res.status(200).json(await refreshSession(deps, { key: verifiedKey(res), refreshToken: body.refreshToken }));
  });
  return router;
}
