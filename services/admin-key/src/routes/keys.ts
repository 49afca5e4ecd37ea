import { CreateApiKeyRequest, RotateApiKeyRequest } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { type Request, Router } from "express";
import type { AppDeps } from "../deps.js";
import { AdminErrors } from "../errors.js";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../usecases/manage-api-keys.js";
import { callerOf, requireSecretKey } from "./auth.js";

const KEY_ID = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;

function keyIdOf(req: Request): string {
  const id = req.params.id;
  if (typeof id !== "string" || !KEY_ID.test(id)) throw AdminErrors.keyNotFound();
  return id;
}

/** The organization's keys, in the caller's mode only. Mounted at /api/v1/keys. */
export function keysRouter(deps: AppDeps): Router {
  const router = Router();
  const auth = requireSecretKey(deps);

  router.get("/", auth, async (_req, res) => {
    res.json({ keys: await listApiKeys(deps.store, callerOf(res)) });
  });

  router.post("/", auth, async (req, res) => {
    const body = parseInput(CreateApiKeyRequest, req.body ?? {});
    res.status(201).json(await createApiKey(deps.store, callerOf(res), body.kind));
  });

  router.post("/:id/rotate", auth, async (req, res) => {
    const id = keyIdOf(req);
    const body = parseInput(RotateApiKeyRequest, req.body ?? {});
    res.status(201).json(await rotateApiKey(deps.store, callerOf(res), id, body.expiresInSeconds));
  });

  router.post("/:id/revoke", auth, async (req, res) => {
    const id = keyIdOf(req);
    res.json({ key: await revokeApiKey(deps.store, callerOf(res), id) });
  });

  return router;
}
