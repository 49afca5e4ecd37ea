import { UpdateSettingsRequest } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { getSettings, updateSettings } from "../usecases/update-settings.js";
import { callerOf, requireSecretKey } from "./auth.js";

/**
 * The settings of the caller key's organization AND mode (a test key sees and changes test
 * settings only). Mounted at /api/v1/organizations/current/settings.
 */
export function settingsRouter(deps: AppDeps): Router {
  const router = Router();
  const auth = requireSecretKey(deps);

  router.get("/", auth, async (_req, res) => {
    res.json({ settings: await getSettings(deps.store, callerOf(res)) });
  });

  router.patch("/", auth, async (req, res) => {
    const patch = parseInput(UpdateSettingsRequest, req.body ?? {});
    res.json({ settings: await updateSettings(deps.store, callerOf(res), patch) });
  });

  return router;
}
