import { clientIp, parseInput } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { requirePublishableKey, verifiedKey } from "../http/auth.js";
import { OtpRequestBody, OtpVerifyBody } from "../otp/normalize-identity.js";
import { createOtpServices } from "../otp/otp-services.js";
import { requestOtp } from "../usecases/request-otp.js";
import { bearerToken } from "../usecases/verify-access-token.js";
import { verifyOtp } from "../usecases/verify-otp.js";

/** POST /otp/request and /otp/verify (seed 000 "OTP Authentication"), X-Publishable-Key required. */
export function otpRouter(deps: AppDeps): Router {
  const otp = createOtpServices(deps);
  const router = Router();

  router.post("/otp/request", requirePublishableKey(deps), async (req, res) => {
    const body = parseInput(OtpRequestBody, req.body);
    res.status(200).json(await requestOtp(otp, verifiedKey(res), body, clientIp(req)));
  });

  router.post("/otp/verify", requirePublishableKey(deps), async (req, res) => {
    const body = parseInput(OtpVerifyBody, req.body);
    const session = await verifyOtp(deps, otp, {
      key: verifiedKey(res),
      body,
      ip: clientIp(req),
      userAgent: req.headers["user-agent"],
      accessToken: bearerToken(req.headers.authorization),
    });
    res.status(200).json(session);
  });

  return router;
}
