import { safeEqual } from "@authplane/service-kit";
import { z } from "zod";
import { writeAudit } from "../audit.js";
import { adminSignInSection } from "./admin-sign-in.js";
import { changeGuards, dashboardApi, htmlResponses, ipKey, redirect, safeNext, sendHtml, signInLimit } from "../api.js";
import { html, path } from "../html.js";
import { field, page } from "../layout.js";
import type { Principal } from "../principal.js";
import { currentSession, endSession, startSession } from "../session.js";

/**
 * Sign-in and sign-out. The operator signs in with the operator token (OPERATOR_TOKEN), compared
 * in constant time; attempts are limited per client IP group (DASHBOARD_SIGN_IN_ATTEMPTS per 15
 * minutes, a success gives its point back); a failure says only that sign-in failed.
 * Organization admins sign in with an email code and a passkey: admin-sign-in.ts (its form is the
 * first section of this page).
 */

const SignInQuery = z.object({
  next: z.string().max(500).optional(),
  expired: z.string().max(5).optional(),
});

const SignInForm = z.object({
  token: z.string().max(1000).default(""),
  name: z.string().max(200).default(""),
  next: z.string().max(500).optional(),
  _csrf: z.string().max(200).optional(),
});

export function signInPage(opts: {
  next: string;
  alert?: string | null;
  notice?: string | null;
  name?: string;
  email?: string;
  emailError?: string;
}) {
  return page({
    title: "Sign in",
    session: null,
    alert: opts.alert ?? null,
    notice: opts.notice ?? null,
    body: html`${adminSignInSection({ next: opts.next, email: opts.email, error: opts.emailError })}
<section aria-labelledby="operator-heading">
<h2 id="operator-heading">Platform operator</h2>
<form method="post" action="${path("sign-in")}">
<input type="hidden" name="next" value="${opts.next}">
${field({ name: "token", label: "Operator token", type: "password", required: true, autocomplete: "current-password", hint: "The OPERATOR_TOKEN of this platform." })}
${field({ name: "name", label: "Your name (optional)", value: opts.name ?? "", autocomplete: "name", hint: "Shown in the audit log next to your changes." })}
<button type="submit">Sign in</button>
</form>
</section>`,
  });
}

export const signInEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "The console's home: to the organizations (an organization admin: to its organization)",
    responses: htmlResponses("Never: always a redirect."),
    handler: (_deps, { caller, res }) =>
      redirect(res, caller.principal.kind === "orgAdmin" ? path("organizations", caller.principal.organizationId) : path("organizations")),
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/sign-in",
    auth: "none",
    rateLimit: "ip",
    summary: "The sign-in page",
    query: SignInQuery,
    responses: htmlResponses("The sign-in form."),
    handler: async (deps, { query, req, res }) => {
      if (await currentSession(deps, req)) return redirect(res, safeNext(query.next));
      const notice = query.expired ? "Your session ended. Sign in again." : null;
      return sendHtml(res, signInPage({ next: safeNext(query.next), notice }));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-in",
    auth: "none",
    rateLimit: "signIn",
    before: changeGuards,
    summary: "Sign in with the operator token",
    description: "A 303 to `next` (a /dashboard path) on success, with the session cookie; 401 with the form again on failure.",
    body: SignInForm,
    bodyContentType: "application/x-www-form-urlencoded",
    responses: htmlResponses("Never: a redirect on success.", {
      401: { description: "Sign-in failed: the form again.", contentType: "text/html" },
    }),
    handler: async (deps, { body, req, res }) => {
      const next = safeNext(body.next);
      if (!body.token || !safeEqual(body.token, deps.env.OPERATOR_TOKEN)) {
        deps.logger.warn({ reqId: req.id }, "dashboard: operator sign-in failed");
        return sendHtml(res, signInPage({ next, alert: "Sign-in failed.", name: body.name }), 401);
      }
      await signInLimit(deps).refund(ipKey(deps, req));
      const name = body.name.trim().replace(/\s+/g, " ");
      const principal: Principal = { kind: "operator", id: "operator", label: name ? `operator (${name})` : "operator" };
      await startSession(deps, req, res, principal);
      await writeAudit(deps, { principal, ip: req.ip ?? null }, { action: "session.sign_in" });
      return redirect(res, next);
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-out",
    auth: "cookieSession",
    rateLimit: "ip",
    before: changeGuards,
    summary: "Sign out (the session ends on the server; the cookie is cleared)",
    body: z.object({ _csrf: z.string().max(200).optional() }),
    bodyContentType: "application/x-www-form-urlencoded",
    responses: htmlResponses("Never: a redirect to the sign-in page."),
    handler: async (deps, { caller, res }) => {
      await endSession(deps, caller.session, res);
      await writeAudit(deps, caller, { action: "session.sign_out" });
      return redirect(res, path("sign-in"));
    },
  }),
];
