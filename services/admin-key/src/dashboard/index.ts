import { mount } from "@authplane/service-kit";
import type { Express, NextFunction, Request, Response } from "express";
import type { AppDeps } from "../deps.js";
import { dashboardAuthenticator, dashboardLimits } from "./api.js";
import { assetEndpoints } from "./assets.js";
import { dashboardErrorHandler } from "./errors.js";
import { adminSignInEndpoints } from "./pages/admin-sign-in.js";
import { adminEndpoints } from "./pages/admins.js";
import { auditEndpoints } from "./pages/audit.js";
import { consumerEndpoints } from "./pages/consumers.js";
import { eventEndpoints } from "./pages/events.js";
import { organizationEndpoints } from "./pages/organizations.js";
import { otpDeliveryEndpoints } from "./pages/otp-deliveries.js";
import { overviewEndpoints } from "./pages/overview.js";
import { settingsEndpoints } from "./pages/settings.js";
import { signInEndpoints } from "./pages/sign-in.js";
import { dashboardNotFound } from "./principal.js";

/**
 * The web console (issue 14), served by admin-key at /dashboard/ (the gateway and nginx route
 * `/dashboard` here). Add a page: declare its endpoints with `dashboardApi.endpoint` in pages/,
 * and list them here (the OpenAPI document and the route-coverage check pick them up).
 */
export const dashboardEndpoints = [
  ...assetEndpoints,
  ...signInEndpoints,
  ...adminSignInEndpoints,
  ...organizationEndpoints,
  ...settingsEndpoints,
  ...overviewEndpoints,
  ...consumerEndpoints,
  ...otpDeliveryEndpoints,
  ...eventEndpoints,
  ...adminEndpoints,
  ...auditEndpoints,
];

/**
 * Strict CSP (scripts and styles from this origin only: no inline script, no inline style, no
 * framing, forms post only here) and no caching of any console answer (pages carry CSRF tokens
 * and, once, new keys).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The console's headers, and DASHBOARD_PUBLIC_ORIGIN for the cross-site check (`refuseCrossSite`). */
function consoleHeaders(deps: AppDeps) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (deps.env.DASHBOARD_PUBLIC_ORIGIN) res.locals.publicOrigin = deps.env.DASHBOARD_PUBLIC_ORIGIN;
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    res.setHeader("Referrer-Policy", "same-origin");
    res.setHeader("X-Frame-Options", "DENY");
    next();
  };
}

/** Mounts the console on the app: its headers, its endpoints, its 404 and its HTML error pages. */
export function mountDashboard(app: Express, deps: AppDeps): void {
  app.use("/dashboard", consoleHeaders(deps));
  mount(app, dashboardEndpoints, {
    deps,
    authenticators: { cookieSession: dashboardAuthenticator(deps) },
    limits: dashboardLimits(deps),
  });
  app.use("/dashboard", (_req: Request, _res: Response, next: NextFunction) => next(dashboardNotFound()));
  app.use("/dashboard", dashboardErrorHandler(deps));
}
