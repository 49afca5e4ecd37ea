import { clientIp } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { requirePublishableKey, verifiedKey } from "../http/auth.js";
import { createGuestSession } from "../usecases/create-guest-session.js";

export function guestRouter(deps: AppDeps): Router {
  const router = Router();
  router.post("/guest", requirePublishableKey(deps), async (req, res) => {
    const body = await createGuestSession(deps, {
      key: verifiedKey(res),
      ip: clientIp(req),
      userAgent: req.headers["user-agent"],
    });
    res.status(200).json(body);
  });
  return router;
}
