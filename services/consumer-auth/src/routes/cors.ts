import { type Mode, type OrganizationSettings, SubjectNames } from "@authplane/contracts";
import {
  type CorsOptions,
  corsEcho,
  corsPreflight,
  crossOrigin,
  DependencyUnavailableError,
  type LookupResult,
  refuseOrigin,
  requestLookup,
} from "@authplane/service-kit";
import type { Request, RequestHandler, Response } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";

const CORS: CorsOptions = {
  methods: ["POST"],
  allowedHeaders: ["X-Publishable-Key", "Authorization", "Content-Type"],
  // What the SDK must read besides the body: how long to wait after a 429/503, and the id to quote.
  exposedHeaders: ["Retry-After", "X-Request-Id"],
  maxAgeSeconds: 600,
};

/** OPTIONS on the browser paths: generic, for every Origin (it carries no key; see service-kit cors.ts). */
export const browserPreflight: RequestHandler = corsPreflight(CORS);

/** Before the per-IP limit and the key check, so that their errors are readable by the page. */
export const browserCorsEcho: RequestHandler = corsEcho(CORS);

/**
 * The request's Origin must be one of the organization's `allowedOrigins` of the key's mode
 * (exact match: admin-key stores them as browsers serialise them). Otherwise 403
 * `origin_not_allowed` without Access-Control-Allow-Origin, before anything happens. Requests
 * without an Origin and same-origin requests pass (see `crossOrigin`).
 */
export function assertOriginAllowed(req: Request, res: Response, settings: Pick<OrganizationSettings, "allowedOrigins">): void {
  const origin = crossOrigin(req);
  if (origin === null || settings.allowedOrigins.includes(origin)) return;
  refuseOrigin(res);
  throw appError(ErrorCatalog.originNotAllowed);
}

/**
 * Settings of an organization in one mode, asked of admin-key (`orgs.v1.get`), for the one
 * browser call that may come without a publishable key (logout with only the access token).
 */
export async function organizationSettings(
  deps: Pick<AppDeps, "nc" | "subjects" | "logger">,
  scope: { organizationId: string; mode: Mode },
): Promise<OrganizationSettings | null> {
  let result: LookupResult<typeof SubjectNames.orgGet>;
  try {
    result = await requestLookup(deps.nc, deps.subjects, SubjectNames.orgGet, scope);
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message }, "orgs.v1.get failed");
    throw new DependencyUnavailableError("nats", err);
  }
  // `{error: "unavailable"}`: admin-key could not read its database.
  if (!result.ok) throw new DependencyUnavailableError("postgres");
  return result.reply.found ? result.reply.settings : null;
}
