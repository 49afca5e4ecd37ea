import { AppError, classifyDependencyError, ulid, ValidationError } from "@authplane/service-kit";
import type { ErrorRequestHandler } from "express";
import type { AppDeps } from "../deps.js";
import { redirect, SignInRequired, sendHtml } from "./api.js";
import { html, path } from "./html.js";
import { page } from "./layout.js";
import { clearSessionCookie, currentSession } from "./session.js";

/**
 * The console's error middleware (mounted on /dashboard after its routes, before the app's JSON
 * one): every error under /dashboard is an HTML page with the right status, never a JSON body.
 * - no live session: a 303 to the sign-in page (a stale cookie is cleared), with `next` for a GET;
 * - a known error (404, 403 CSRF, 429 with Retry-After, 400 input): its message;
 * - a backing service down: 503; anything else: 500 with an error id that is logged (never the
 *   error's text, which may name internals).
 * A signed-in user keeps the navigation on a 4xx page.
 */
export function dashboardErrorHandler(deps: AppDeps): ErrorRequestHandler {
  return async (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof SignInRequired) {
      if (err.expired) clearSessionCookie(deps, res);
      const params = new URLSearchParams();
      if (req.method === "GET" && req.originalUrl.startsWith("/dashboard/")) params.set("next", req.originalUrl);
      if (err.expired) params.set("expired", "1");
      const query = params.toString();
      redirect(res, `${path("sign-in")}${query ? `?${query}` : ""}`);
      return;
    }
    let status: number;
    let message: string;
    let details: string[] = [];
    const bodyErr = err as { type?: string; status?: number };
    if (err instanceof ValidationError) {
      status = 400;
      message = "The request is invalid.";
      details = err.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
    } else if (err instanceof AppError) {
      status = err.status;
      message = err.message;
      for (const [k, v] of Object.entries(err.options.headers ?? {})) res.setHeader(k, v);
    } else if (bodyErr?.type === "entity.too.large") {
      status = 413;
      message = "The form is too large.";
    } else if (err instanceof URIError || (typeof bodyErr?.status === "number" && bodyErr.status >= 400 && bodyErr.status < 500)) {
      status = 400;
      message = "The request could not be read.";
    } else {
      const dep = classifyDependencyError(err);
      if (dep) {
        deps.logger.warn({ reqId: req.id, dependency: dep.dependency }, "dashboard: dependency unavailable");
        status = 503;
        message = "A backing service is unavailable. Try again shortly.";
        res.setHeader("Retry-After", "1");
      } else {
        const errorId = ulid();
        deps.logger.error({ reqId: req.id, errorId, err }, "dashboard: unhandled error");
        status = 500;
        message = `An internal error occurred (error id ${errorId}).`;
      }
    }
    // Signed in: the page keeps its navigation (not when a backing service is the problem).
    const session = status < 500 ? await currentSession(deps, req).catch(() => null) : null;
    if (res.headersSent) return;
    const title = status === 404 ? "Not found" : status === 403 ? "Refused" : status === 429 ? "Too many requests" : "Something went wrong";
    sendHtml(
      res,
      page({
        title,
        session,
        alert: message,
        body: html`${details.length ? html`<ul class="errors">${details.map((d) => html`<li>${d}</li>`)}</ul>` : ""}
<p><a href="${path("")}">Back to the console</a></p>`,
      }),
      status,
    );
  };
}
