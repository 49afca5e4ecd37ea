import { type CorsOptions, corsEcho as kitEcho, corsPreflight as kitPreflight, refuseOrigin } from "@authplane/service-kit";
import type { NextFunction, Request, Response } from "express";
import { Errors } from "../errors.js";
import { relyingPartyOf, type Scope } from "../scope.js";

/**
 * CORS for the client API, on service-kit's CORS pieces (shared with the consumer API).
 *
 * A preflight carries no Authorization header, so the organization (and its allowed origins) is
 * unknown when it arrives: the preflight is answered for any Origin, for POST and the SDK's
 * headers only. The real request is where the organization's origins are enforced: a request
 * whose Origin is not one of them is refused with 403 PermissionViolation and gets no
 * Access-Control-Allow-Origin, so a foreign page can neither use the API nor read the answer.
 * Errors raised before the organization is known (bad key, 429) echo the Origin so the SDK can
 * show them; they carry nothing about any organization. Requests without an Origin (native apps,
 * servers) pass: WebAuthn verification still checks the origin signed into clientDataJSON.
 */
const CORS: CorsOptions = {
  methods: ["POST"],
  allowedHeaders: ["Authorization", "Content-Type", "Accept", "X-SDK"],
  exposedHeaders: ["Retry-After", "X-Request-Id"],
  maxAgeSeconds: 600,
};
const preflight = kitPreflight(CORS);
const echo = kitEcho(CORS);

/** helmet's same-origin CORP would make no-cors reads fail; the API is meant to be cross-origin. */
function crossOriginResource(res: Response): void {
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
}

export function corsPreflight(req: Request, res: Response, next: NextFunction): void {
  crossOriginResource(res);
  void preflight(req, res, next);
}

/** Before auth: let the browser read early errors (see above). */
export function corsEcho(req: Request, res: Response, next: NextFunction): void {
  crossOriginResource(res);
  void echo(req, res, next);
}

/** After the key (the organization is known): its relying party must list the request's Origin. */
export function enforceOrigin(req: Request, res: Response, scope: Scope): void {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return;
  const rp = relyingPartyOf(scope);
  // Without a relying party the error stays readable: it only tells the developer what to set up.
  if (!rp) throw Errors.noRelyingParty();
  if (!rp.origins.includes(origin)) {
    refuseOrigin(res);
    throw Errors.permission(`Origin ${JSON.stringify(origin)} is not one of the organization's allowed origins.`);
  }
}
