import {
  type ApiConfig,
  type ApiShape,
  AppError,
  clientIpGroup,
  defineApi,
  findHostileValue,
  type LimitImpl,
  RateLimit,
  type ResponseSpec,
  SENT,
  type Sent,
  safeEqual,
  ValidationError,
} from "@authplane/service-kit";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import type { SafeHtml } from "./html.js";
import type { Principal } from "./principal.js";
import { currentSession, type DashboardSession, hasSessionCookie } from "./session.js";

/**
 * The console's endpoints are declared with the service-kit endpoint builder like every other
 * route (so they are in /openapi.json under the "Dashboard" tag, and the route-coverage and
 * response checks of the test harness cover them). What differs from the JSON APIs:
 * - answers are HTML (`text/html`), errors too (see errors.ts), redirects are bodiless 303s;
 * - the auth kind is `cookieSession` (authenticator below: the session cookie, and for a
 *   state-changing request the CSRF token);
 * - forms post `application/x-www-form-urlencoded` (parsed by `formBody`, checked for hostile input
 *   like JSON bodies are).
 */

/** The handler's `caller` on a signed-in page. */
export interface DashboardCaller {
  session: DashboardSession;
  principal: Principal;
  /** The client IP as the app computed it (TRUST_PROXY), for the audit log. */
  ip: string | null;
}

export interface DashboardShape extends ApiShape {
  deps: AppDeps;
  callers: { cookieSession: DashboardCaller };
  limits: "ip" | "signIn";
  codes: string;
}

const config: ApiConfig<DashboardShape> = {
  // Every error of the console is an HTML page (declared per endpoint, `htmlResponses`); nothing
  // is documented as a JSON error body.
  errorSchema: () => z.never(),
  auth: {
    cookieSession: {
      schemeName: "dashboardSession",
      scheme: {
        type: "apiKey",
        in: "cookie",
        name: "__Host-authplane_dashboard",
        description:
          "Web console session (HttpOnly, SameSite=Strict; `authplane_dashboard` on plain-http development). A request that changes " +
          "something also needs the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`) and is refused cross-site.",
      },
      errors: {},
    },
  },
  limits: {
    ip: { description: "RATE_LIMIT_IP_PER_MINUTE per client IP group, like the APIs." },
    signIn: { description: "DASHBOARD_SIGN_IN_ATTEMPTS per client IP group per 15 minutes (a successful sign-in gives its point back)." },
  },
  commonErrors: {},
  tags: ["Dashboard"],
};

export const dashboardApi = defineApi<DashboardShape>(config);

/** Thrown by the authenticator when there is no live session: a 303 to the sign-in page. */
export class SignInRequired extends AppError {
  constructor(readonly expired: boolean) {
    super(401, "sign_in_required", "Sign in to continue.");
  }
}

/** A refused cross-site request or a missing/wrong CSRF token. */
function csrfRefused(): AppError {
  return new AppError(
    403,
    "csrf_refused",
    "This request was refused: it did not come from a page of this console. Reload the page and try again.",
  );
}

const html = (description: string): ResponseSpec => ({ description, contentType: "text/html" });

/** The responses every console endpoint may answer (pages and their HTML errors). */
export function htmlResponses(ok: string, extra: Record<number, ResponseSpec> = {}) {
  return {
    200: html(ok),
    303: { description: "A redirect (after a change; or to the sign-in page when not signed in or the session ended).", empty: true },
    400: html("Invalid input: the page again, with the errors next to the fields."),
    403: html("A cross-site request or a missing/wrong CSRF token, or an action this principal may not take."),
    404: html("No such page, or an organization or key this principal cannot see."),
    413: html("The form is too large."),
    429: html("Too many requests from this client."),
    500: html("An internal error (with an error id)."),
    503: html("A backing service is unavailable."),
    ...extra,
  } as const;
}

/** Sends a page. */
export function sendHtml(res: Response, body: SafeHtml, status = 200): Sent {
  res.status(status).type("html").send(body.value);
  return SENT;
}

/** A bodiless 303 (after a POST, or to the sign-in page). `location` must be a /dashboard path. */
export function redirect(res: Response, location: string): Sent {
  res.status(303).setHeader("Location", location);
  res.end();
  return SENT;
}

/**
 * The expected `Origin` of a same-origin request: DASHBOARD_PUBLIC_ORIGIN when set, else the
 * console's origin as the browser sees it (behind the gateway/proxy: X-Forwarded-Proto/-Host from
 * a trusted hop, TRUST_PROXY). `mountDashboard` puts the setting in `res.locals.publicOrigin`.
 */
function ownOrigin(req: Request, res: Response): string {
  const configured = res.locals.publicOrigin as string | undefined;
  return configured ?? `${req.protocol}://${req.host}`;
}

/**
 * Refuses a cross-site state-changing request before anything else runs: `Sec-Fetch-Site` other
 * than `same-origin`, or an `Origin` other than the console's own. (A client that sends neither
 * — curl, a test — still needs the CSRF token.)
 */
function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  const site = req.headers["sec-fetch-site"];
  const origin = req.headers.origin;
  const crossSite = (site !== undefined && site !== "same-origin") || (origin !== undefined && origin !== ownOrigin(req, res));
  next(crossSite ? csrfRefused() : undefined);
}

const urlencoded = express.urlencoded({ extended: false, limit: "64kb", parameterLimit: 200 });

/** Parses an HTML form body (and refuses hostile text in it, as the app does for JSON bodies). */
const formBody: RequestHandler[] = [
  urlencoded,
  (req, _res, next) => {
    const problem = findHostileValue(req.body, []);
    next(problem ? new ValidationError([{ path: problem.path, message: problem.message, code: "hostile_input" }]) : undefined);
  },
];

/** `before` of every state-changing console endpoint. */
export const changeGuards: RequestHandler[] = [refuseCrossSite, ...formBody];

/** The CSRF token a request sends: the form's `_csrf` field, or the `X-CSRF-Token` header (fetch). */
function sentCsrfToken(req: Request): string | null {
  const header = req.headers["x-csrf-token"];
  if (typeof header === "string" && header) return header;
  const field = (req.body as Record<string, unknown> | undefined)?._csrf;
  return typeof field === "string" && field ? field : null;
}

/** The `cookieSession` authenticator: a live session, and on anything but GET/HEAD its CSRF token. */
export function dashboardAuthenticator(deps: AppDeps) {
  return async (req: Request): Promise<DashboardCaller> => {
    const session = await currentSession(deps, req);
    if (!session) throw new SignInRequired(hasSessionCookie(deps, req));
    if (req.method !== "GET" && req.method !== "HEAD") {
      const sent = sentCsrfToken(req);
      if (!sent || !safeEqual(sent, session.csrfToken)) throw csrfRefused();
    }
    return { session, principal: session.principal, ip: req.ip ?? null };
  };
}

const signInLimits = new WeakMap<AppDeps, RateLimit>();

/** The sign-in attempts limit (one per deps, shared by the limit step and the handler's refund). */
export function signInLimit(deps: AppDeps): RateLimit {
  let limit = signInLimits.get(deps);
  if (!limit) {
    limit = new RateLimit(deps.redis, { name: "dashboard-sign-in", points: deps.env.DASHBOARD_SIGN_IN_ATTEMPTS, durationSeconds: 900 });
    signInLimits.set(deps, limit);
  }
  return limit;
}

/** The client IP group a per-IP limit counts a request under. */
export function ipKey(deps: AppDeps, req: Request): string {
  return clientIpGroup(req, deps.env.RATE_LIMIT_IPV6_PREFIX);
}

/** The console's rate limits: the APIs' per-IP limit, and the sign-in attempts per IP. */
export function dashboardLimits(deps: AppDeps): Record<DashboardShape["limits"], LimitImpl> {
  const key = (req: Request) => ipKey(deps, req);
  return {
    ip: { limit: new RateLimit(deps.redis, { name: "ip", points: deps.env.RATE_LIMIT_IP_PER_MINUTE, durationSeconds: 60 }), key },
    signIn: { limit: signInLimit(deps), key },
  };
}

/** A `/dashboard/…` path to come back to after signing in, or the console's home (no open redirect). */
export function safeNext(value: unknown): string {
  if (typeof value !== "string") return "/dashboard/";
  if (!/^\/dashboard\/[A-Za-z0-9_\-/.?=&%]*$/.test(value) || value.includes("//") || value.includes("..")) return "/dashboard/";
  return value;
}
