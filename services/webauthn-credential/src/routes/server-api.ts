import { AttachRegistrationRequest, FindCredentialsRequest, UpdateCredentialRequest, VerifyAuthTokenRequest } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import { limitByIp, requireKey, scopeOf } from "../auth.js";
import type { Ctx } from "../context.js";
import { sendResult } from "../wrapped.js";
import { attachRegistration } from "../usecases/attach-registration.js";
import { findCredentials } from "../usecases/find-credentials.js";
import { updateCredential } from "../usecases/update-credential.js";
import { verifyAuthToken } from "../usecases/verify-auth-token.js";

export const SERVER_API_PATHS = [
  "/registration/attach",
  "/credential/create",
  "/auth/verify",
  "/credential/update",
  "/credential/find",
] as const;

/** The server API of seed 003 (secret key as the Basic password), at the service root. */
export function serverApiRouter(ctx: Ctx): Router {
  const router = Router();
  router.post([...SERVER_API_PATHS], limitByIp(ctx, "server"), requireKey(ctx, "secret"));

  router.post("/registration/attach", async (req, res) => {
    const credential = await attachRegistration(ctx, scopeOf(res), parseInput(AttachRegistrationRequest, req.body ?? {}));
    sendResult(res, { id: credential.id });
  });
  router.post("/credential/create", async (req, res) => {
    const credential = await attachRegistration(ctx, scopeOf(res), parseInput(AttachRegistrationRequest, req.body ?? {}));
    sendResult(res, credential);
  });
  router.post("/auth/verify", async (req, res) => {
    sendResult(res, await verifyAuthToken(ctx, scopeOf(res), parseInput(VerifyAuthTokenRequest, req.body ?? {})));
  });
  router.post("/credential/update", async (req, res) => {
    sendResult(res, await updateCredential(ctx, scopeOf(res), parseInput(UpdateCredentialRequest, req.body ?? {})));
  });
  router.post("/credential/find", async (req, res) => {
    sendResult(res, await findCredentials(ctx, scopeOf(res), parseInput(FindCredentialsRequest, req.body ?? {})));
  });
  return router;
}
