import {
  AssertionOptionsRequest,
  AssertionProcessRequest,
  AttestationOptionsRequest,
  AttestationProcessRequest,
} from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { type Request, type Response, Router } from "express";
import { limitByIp, type RelyingParty, relyingPartyOf, requireKey, type Scope, scopeOf } from "../auth.js";
import type { Ctx } from "../context.js";
import { sendResult } from "../wrapped.js";
import { corsEcho, corsEnforce, corsPreflight } from "../cors.js";
import { Errors } from "../errors.js";
import { finishAuthentication } from "../usecases/finish-authentication.js";
import { finishRegistration } from "../usecases/finish-registration.js";
import { startAuthentication } from "../usecases/start-authentication.js";
import { startRegistration } from "../usecases/start-registration.js";

export const CLIENT_API_PATHS = ["/attestation/options", "/attestation/process", "/assertion/options", "/assertion/process"] as const;

function relyingParty(res: Response): { scope: Scope; rp: RelyingParty } {
  const scope = scopeOf(res);
  const rp = relyingPartyOf(scope);
  if (!rp) throw Errors.noRelyingParty();
  return { scope, rp };
}

/**
 * The client API (browser/mobile SDKs, publishable key), at the service root, every answer
 * wrapped `{result, errors}`.
 */
export function clientApiRouter(ctx: Ctx): Router {
  const router = Router();
  const paths = [...CLIENT_API_PATHS];
  router.options(paths, corsPreflight);
  router.post(paths, corsEcho, limitByIp(ctx, "client"), requireKey(ctx, "publishable"), corsEnforce);

  const body = (req: Request) => req.body ?? {};

  router.post("/attestation/options", async (req, res) => {
    const { scope, rp } = relyingParty(res);
    const result = await startRegistration(ctx, scope, rp, parseInput(AttestationOptionsRequest, body(req)));
    sendResult(res, result);
  });
  router.post("/attestation/process", async (req, res) => {
    const { scope, rp } = relyingParty(res);
    const result = await finishRegistration(ctx, scope, rp, parseInput(AttestationProcessRequest, body(req)));
    sendResult(res, result);
  });
  router.post("/assertion/options", async (req, res) => {
    const { scope, rp } = relyingParty(res);
    const result = await startAuthentication(ctx, scope, rp, parseInput(AssertionOptionsRequest, body(req)));
    sendResult(res, result);
  });
  router.post("/assertion/process", async (req, res) => {
    const { scope, rp } = relyingParty(res);
    const result = await finishAuthentication(ctx, scope, rp, parseInput(AssertionProcessRequest, body(req)));
    sendResult(res, result);
  });
  return router;
}
