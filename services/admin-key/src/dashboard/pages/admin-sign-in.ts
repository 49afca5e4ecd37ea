import { createHash } from "node:crypto";
import { AppError, RateLimit, safeEqual } from "@authplane/service-kit";
import type { Request, Response } from "express";
import { z } from "zod";
import type { AppDeps } from "../../deps.js";
import { AdminEmail, adminRowsOf, identityOf, recordEmailVerified } from "../admins.js";
import { ServiceCallError } from "../api-client.js";
import {
  type DashboardCaller,
  changeGuards,
  dashboardApi,
  htmlResponses,
  ipKey,
  redirect,
  safeNext,
  sendHtml,
  signInLimit,
} from "../api.js";
import { writeAudit } from "../audit.js";
import { consoleCalls, secretKeyRefused } from "../console-calls.js";
import { type ConsoleOrganization, consoleOrganization, renewConsoleSecretKey } from "../console-org.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, field, page } from "../layout.js";
import { dashboardNotFound, type Principal } from "../principal.js";
import { pendingCsrfOf, pendingTokenOf, setPendingCookie, startSession } from "../session.js";
import { signInPage } from "./sign-in.js";

/**
 * Organization-admin sign-in: no key, token or secret ever reaches the browser.
 *
 * 1. `POST /dashboard/sign-in/email`: the admin gives an email. The answer is the same 303 to the
 *    code page for every well-formed address (admin or not), with a pending-sign-in cookie. Only
 *    for an invited address does the console then — after answering, so the time to answer does
 *    not tell either — open a guest session of the console organization and ask consumer-auth for
 *    an email code (`/api/v1/auth/guest`, `/otp/request`, through the gateway, publishable key).
 * 2. `POST /dashboard/sign-in/code`: the code goes to consumer-auth's `/otp/verify` for every
 *    address (an address that got no code gets "expired" like a wrong code): one answer, "wrong or
 *    expired", whatever the address. A verified code of an invited address is a first factor.
 * 3. If that address has registered a passkey: `…/sign-in/passkey` (a second factor:
 *    webauthn-credential's client API from the page, the server verifies the `atn_` token with
 *    the console organization's secret key and checks it names this admin's consumer).
 * 4. An address invited to several organizations chooses one (`…/sign-in/organization`); the
 *    console session is bound to that organization (`orgAdmin` principal).
 * After the first sign-in without a passkey, the admin is sent to `/dashboard/account/passkey`.
 *
 * Limits: every POST here spends the per-IP sign-in budget (DASHBOARD_SIGN_IN_ATTEMPTS per 15
 * min; a completed sign-in gives back its point), the email step also the per-address budget
 * (DASHBOARD_ADMIN_CODES_PER_EMAIL per 15 min, spent for any address: a 429 says nothing about
 * it), and a pending sign-in allows 5 codes before it must start again.
 */

const PENDING_TTL_SECONDS = 600;
const CODE_ATTEMPTS = 5;

interface Pending {
  email: string;
  next: string;
  step: "code" | "passkey" | "choose";
  attempts: number;
  /** The console organization's consumer (after the code). */
  consumerId?: string;
}

const hashOf = (token: string) => createHash("sha256").update(`dashboard-pending:${token}`).digest("hex");
const pendingKey = (token: string) => `dashboard:pending:${hashOf(token)}`;
const guestKey = (token: string) => `dashboard:pending-guest:${hashOf(token)}`;

async function loadPending(deps: AppDeps, req: Request): Promise<{ token: string; state: Pending } | null> {
  const token = pendingTokenOf(deps, req);
  if (!token) return null;
  const raw = await deps.redis.get(pendingKey(token));
  if (!raw) return null;
  return { token, state: JSON.parse(raw) as Pending };
}

async function savePending(deps: AppDeps, token: string, state: Pending): Promise<void> {
  await deps.redis.set(pendingKey(token), JSON.stringify(state), "EX", PENDING_TTL_SECONDS);
}

async function dropPending(deps: AppDeps, res: Response, token: string): Promise<void> {
  await deps.redis.del(pendingKey(token), guestKey(token));
  setPendingCookie(deps, res, false);
}

function csrfRefused(): AppError {
  return new AppError(
    403,
    "csrf_refused",
    "This request was refused: it did not come from a page of this console. Reload the page and try again.",
  );
}

/** The pending sign-in of a form post (its CSRF field checked), or null (expired / none). */
async function pendingOfForm(deps: AppDeps, req: Request, sentCsrf: string | undefined) {
  const pending = await loadPending(deps, req);
  if (!pending) return null;
  if (!sentCsrf || !safeEqual(sentCsrf, pendingCsrfOf(pending.token))) throw csrfRefused();
  return pending;
}

/**
 * A failed call to consumer-auth / webauthn-credential (gateway down, timeout, a 5xx): the
 * console's 503 page ("try again shortly"), not a 500; the pending sign-in stays as it is.
 */
async function orUnavailable<T>(deps: AppDeps, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (!(err instanceof ServiceCallError)) throw err;
    deps.logger.warn({ err: err.message }, "dashboard: admin sign-in call failed");
    throw new AppError(503, "service_unavailable", "The sign-in service is unavailable. Try again shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
}

/**
 * Runs a server-API call with the console organization's secret key; if webauthn-credential
 * refuses that key (revoked or rotated away), a new one is issued and the call made once more.
 */
async function withRenewedKey<T>(deps: AppDeps, call: (org: ConsoleOrganization) => Promise<T>): Promise<T> {
  try {
    return await call(await consoleOrganization(deps));
  } catch (err) {
    if (!secretKeyRefused(err)) throw err;
    return call(await renewConsoleSecretKey(deps));
  }
}

const perEmailLimits = new WeakMap<AppDeps, RateLimit>();
function perEmailLimit(deps: AppDeps): RateLimit {
  let limit = perEmailLimits.get(deps);
  if (!limit) {
    limit = new RateLimit(deps.redis, {
      name: "dashboard-admin-email",
      points: deps.env.DASHBOARD_ADMIN_CODES_PER_EMAIL,
      durationSeconds: 900,
    });
    perEmailLimits.set(deps, limit);
  }
  return limit;
}

/**
 * Sends the code (guest session, then the OTP request) after the answer went out. Failures are
 * logged without the address; the admin asks again after the cooldown.
 */
function sendCodeLater(deps: AppDeps, token: string, email: string): void {
  void (async () => {
    try {
      const calls = consoleCalls(deps.env, await consoleOrganization(deps));
      const guest = await calls.guest();
      await deps.redis.set(guestKey(token), guest, "EX", PENDING_TTL_SECONDS);
      await calls.requestEmailCode(email);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, "dashboard: admin sign-in code could not be sent");
    }
  })();
}

const CsrfField = { _csrf: z.string().max(200).optional() };
const EmailForm = z.object({ email: z.string().max(1000).default(""), next: z.string().max(500).optional(), ...CsrfField });
const CodeForm = z.object({ code: z.string().max(100).default(""), ...CsrfField });
const TokenForm = z.object({ token: z.string().max(200).default(""), ...CsrfField });
const ChooseForm = z.object({ organizationId: z.string().max(100).default(""), ...CsrfField });

function pendingCsrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${pendingCsrfOf(token)}">`;
}

function codePage(token: string, state: Pending, alert: string | null = null): SafeHtml {
  return page({
    title: "Enter your code",
    session: null,
    alert,
    body: html`<p role="status">If <strong>${state.email}</strong> belongs to an organization admin, a 6-digit code is on its way there. It works for 10 minutes.</p>
<form method="post" action="${path("sign-in", "code")}">
${pendingCsrfField(token)}
${field({ name: "code", label: "Code", required: true, autocomplete: "one-time-code", hint: "The 6 digits from the email." })}
<button type="submit">Continue</button>
</form>
<p><a href="${path("sign-in")}">Use another address, or ask for a new code</a></p>`,
  });
}

function passkeyStepPage(token: string, publishableKey: string, consumerId: string, alert: string | null = null): SafeHtml {
  return page({
    title: "Confirm with your passkey",
    session: null,
    alert,
    body: html`<p>Your email code was right. This account has a passkey: confirm the sign-in with it.</p>
<form method="post" action="${path("sign-in", "passkey")}" data-passkey="sign-in" data-publishable-key="${publishableKey}" data-user-id="${consumerId}">
${pendingCsrfField(token)}
<input type="hidden" name="token" value="">
<button type="submit">Use my passkey</button>
<p class="passkey-status" role="status"></p>
</form>
<noscript><p class="alert">Signing in with a passkey needs JavaScript.</p></noscript>
<script src="${path("assets", "passkey.js")}" defer></script>
<p><a href="${path("sign-in")}">Start again</a></p>`,
  });
}

/** Starts the console session once both factors are in (and an organization is chosen). */
async function finish(
  deps: AppDeps,
  req: Request,
  res: Response,
  pending: { token: string; state: Pending },
  organizationId: string | null,
) {
  const rows = await adminRowsOf(deps, pending.state.email);
  const row = organizationId ? rows.find((r) => r.organizationId === organizationId) : rows.length === 1 ? rows[0] : undefined;
  if (!row) {
    if (rows.length === 0) {
      // Removed while signing in.
      await dropPending(deps, res, pending.token);
      return redirect(res, path("sign-in"));
    }
    await savePending(deps, pending.token, { ...pending.state, step: "choose" });
    return redirect(res, path("sign-in", "organization"));
  }
  const principal: Principal = { kind: "orgAdmin", id: row.id, label: row.email, organizationId: row.organizationId };
  await startSession(deps, req, res, principal);
  await dropPending(deps, res, pending.token);
  await deps.prisma.dashboardAdmin.update({ where: { id: row.id }, data: { lastSignInAt: new Date() } });
  await signInLimit(deps).refund(ipKey(deps, req));
  await writeAudit(deps, { principal, ip: req.ip ?? null }, { organizationId: row.organizationId, action: "session.sign_in" });
  const identity = await identityOf(deps, row.email);
  if (!identity?.passkeyRegisteredAt) return redirect(res, `${path("account", "passkey")}?first=1`);
  return redirect(res, safeNext(pending.state.next));
}

const flow = { before: changeGuards, bodyContentType: "application/x-www-form-urlencoded" } as const;
const unauthorized = { 401: { description: "Wrong or expired code / passkey not verified: the form again.", contentType: "text/html" } };

export const adminSignInEndpoints = [
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-in/email",
    auth: "none",
    rateLimit: "signIn",
    ...flow,
    summary: "Organization admin sign-in, step 1: an email address (the same answer for every address)",
    body: EmailForm,
    responses: htmlResponses("The sign-in page again with the field's error (not an email address)."),
    handler: async (deps, { body, req, res }) => {
      const email = AdminEmail.safeParse(body.email);
      if (!email.success) return sendHtml(res, signInPageWithEmailError(body.email, safeNext(body.next)), 400);
      await perEmailLimit(deps).consume(createHash("sha256").update(email.data).digest("hex"));
      const old = pendingTokenOf(deps, req);
      if (old) await deps.redis.del(pendingKey(old), guestKey(old));
      const token = setPendingCookie(deps, res, true) as string;
      await savePending(deps, token, { email: email.data, next: safeNext(body.next), step: "code", attempts: 0 });
      const invited = (await adminRowsOf(deps, email.data)).length > 0;
      if (invited) sendCodeLater(deps, token, email.data);
      return redirect(res, path("sign-in", "code"));
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/sign-in/code",
    auth: "none",
    rateLimit: "ip",
    summary: "Organization admin sign-in, step 2: the code form",
    responses: htmlResponses("The code form (a redirect to the sign-in page when no sign-in is in progress)."),
    handler: async (deps, { req, res }) => {
      const pending = await loadPending(deps, req);
      if (pending?.state.step !== "code") return redirect(res, path("sign-in"));
      return sendHtml(res, codePage(pending.token, pending.state));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-in/code",
    auth: "none",
    rateLimit: "signIn",
    ...flow,
    summary: "Organization admin sign-in, step 2: verify the email code (consumer-auth, through the gateway)",
    body: CodeForm,
    responses: htmlResponses("Never on success (a redirect).", unauthorized),
    handler: async (deps, { body, req, res }) => {
      const pending = await pendingOfForm(deps, req, body._csrf);
      if (pending?.state.step !== "code") return redirect(res, `${path("sign-in")}?expired=1`);
      const { state, token } = pending;
      state.attempts += 1;
      if (state.attempts > CODE_ATTEMPTS) {
        await dropPending(deps, res, token);
        return redirect(res, `${path("sign-in")}?expired=1`);
      }
      await savePending(deps, token, state);
      const code = body.code.replace(/\s+/g, "");
      const wrong = () => sendHtml(res, codePage(token, state, "That code is wrong or has expired."), 401);
      if (!/^\d{4,10}$/.test(code)) return wrong();
      const calls = consoleCalls(deps.env, await consoleOrganization(deps));
      const guest = await deps.redis.get(guestKey(token));
      // Every address is verified (an address that got no code answers "expired"): one answer for all.
      const verified = await orUnavailable(deps, calls.verifyEmailCode(state.email, code, guest));
      if (!verified || verified.email !== state.email) return wrong();
      // The console keeps its own session: consumer-auth's ends now, and so does the guest's (it
      // was upgraded in place at the first sign-in; later it stays a guest, which logout ends).
      await calls.logout(verified.accessToken).catch(() => undefined);
      if (guest) await calls.logout(guest).catch(() => undefined);
      if ((await adminRowsOf(deps, state.email)).length === 0) return wrong();
      const identity = await recordEmailVerified(deps, state.email, verified.consumerId);
      const next: Pending = { ...state, consumerId: identity.consumerId };
      if (identity.passkeyRegisteredAt) {
        await savePending(deps, token, { ...next, step: "passkey" });
        return redirect(res, path("sign-in", "passkey"));
      }
      await savePending(deps, token, next);
      return finish(deps, req, res, { token, state: next }, null);
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/sign-in/passkey",
    auth: "none",
    rateLimit: "ip",
    summary: "Organization admin sign-in, step 3: confirm with the passkey",
    responses: htmlResponses("The passkey step (a redirect to the sign-in page when not at this step)."),
    handler: async (deps, { req, res }) => {
      const pending = await loadPending(deps, req);
      if (pending?.state.step !== "passkey" || !pending.state.consumerId) return redirect(res, path("sign-in"));
      const org = await consoleOrganization(deps);
      return sendHtml(res, passkeyStepPage(pending.token, org.publishableKey, pending.state.consumerId));
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-in/passkey",
    auth: "none",
    rateLimit: "signIn",
    ...flow,
    summary: "Organization admin sign-in, step 3: the passkey's sign-in token (verified server-side)",
    body: TokenForm,
    responses: htmlResponses("Never on success (a redirect).", unauthorized),
    handler: async (deps, { body, req, res }) => {
      const pending = await pendingOfForm(deps, req, body._csrf);
      if (pending?.state.step !== "passkey" || !pending.state.consumerId) return redirect(res, `${path("sign-in")}?expired=1`);
      const org = await consoleOrganization(deps);
      const failed = () =>
        sendHtml(
          res,
          passkeyStepPage(pending.token, org.publishableKey, pending.state.consumerId as string, "The passkey could not be verified."),
          401,
        );
      if (!/^atn_[A-Za-z0-9_-]{10,190}$/.test(body.token)) return failed();
      const verified = await orUnavailable(
        deps,
        withRenewedKey(deps, (o) => consoleCalls(deps.env, o).verifyPasskey(body.token)),
      );
      if (!verified || verified.userId !== pending.state.consumerId) return failed();
      return finish(deps, req, res, pending, null);
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/sign-in/organization",
    auth: "none",
    rateLimit: "ip",
    summary: "Organization admin sign-in, last step for an admin of several organizations: choose one",
    responses: htmlResponses("The organizations to choose from."),
    handler: async (deps, { req, res }) => {
      const pending = await loadPending(deps, req);
      if (pending?.state.step !== "choose") return redirect(res, path("sign-in"));
      const rows = await adminRowsOf(deps, pending.state.email);
      const orgs = await deps.prisma.organization.findMany({
        where: { id: { in: rows.map((r) => r.organizationId) } },
        select: { id: true, name: true },
        orderBy: { name: "asc" },
      });
      return sendHtml(
        res,
        page({
          title: "Choose an organization",
          session: null,
          body: html`<form method="post" action="${path("sign-in", "organization")}">
${pendingCsrfField(pending.token)}
<fieldset>
<legend>You administer several organizations. This session will be for:</legend>
${orgs.map(
  (o, i) =>
    html`<div class="field"><input type="radio" id="org-${o.id}" name="organizationId" value="${o.id}"${i === 0 ? html` checked` : ""}> <label for="org-${o.id}">${o.name} <code>${o.id}</code></label></div>`,
)}
</fieldset>
<button type="submit">Continue</button>
</form>
<p class="hint">To work on another of them later, sign out and sign in again.</p>`,
        }),
      );
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/sign-in/organization",
    auth: "none",
    rateLimit: "signIn",
    ...flow,
    summary: "Organization admin sign-in: the chosen organization (must be one the address administers)",
    body: ChooseForm,
    responses: htmlResponses("Never on success (a redirect)."),
    handler: async (deps, { body, req, res }) => {
      const pending = await pendingOfForm(deps, req, body._csrf);
      if (pending?.state.step !== "choose") return redirect(res, `${path("sign-in")}?expired=1`);
      const rows = await adminRowsOf(deps, pending.state.email);
      if (!rows.some((r) => r.organizationId === body.organizationId)) throw dashboardNotFound();
      return finish(deps, req, res, pending, body.organizationId);
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/account/passkey",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "An organization admin's passkey: register one (asked after the first sign-in)",
    query: z.object({ first: z.string().max(5).optional(), done: z.string().max(5).optional() }),
    responses: htmlResponses("The passkey page."),
    handler: async (deps, { caller, query, res }) => {
      const me = await adminOf(deps, caller);
      const identity = await identityOf(deps, me.email);
      const org = await consoleOrganization(deps);
      const has = Boolean(identity?.passkeyRegisteredAt);
      return sendHtml(
        res,
        page({
          title: "Your passkey",
          session: caller.session,
          notice: query.done ? "Your passkey is registered. From now on, sign-in asks for it after the email code." : null,
          body: html`${
            has
              ? html`<p>You have a passkey: every sign-in asks for it after the email code. You may register another one (e.g. a new device); the newest is kept on record.</p>`
              : html`<p>${query.first ? "Welcome! " : ""}Register a passkey now: from then on, signing in takes the email code <strong>and</strong> this passkey, so a stolen mailbox alone cannot open this console.</p>`
          }
<form method="post" action="${path("account", "passkey")}" data-passkey="register" data-publishable-key="${org.publishableKey}" data-user-name="${me.email}">
${csrfField(caller.session)}
<input type="hidden" name="token" value="">
<button type="submit">Register a passkey</button>
<p class="passkey-status" role="status"></p>
</form>
<noscript><p class="alert">Registering a passkey needs JavaScript.</p></noscript>
<script src="${path("assets", "passkey.js")}" defer></script>
<p><a href="${path("organizations", me.organizationId)}">${has ? "Back to your organization" : "Not now: go to your organization"}</a></p>`,
        }),
      );
    },
  }),
  dashboardApi.endpoint({
    method: "post",
    path: "/dashboard/account/passkey",
    auth: "cookieSession",
    rateLimit: "ip",
    ...flow,
    summary: "Attach the passkey just registered (its `rtn_` token) to the signed-in admin (audited)",
    body: TokenForm,
    responses: htmlResponses("Never on success (a redirect).", {
      422: { description: "The registration could not be attached.", contentType: "text/html" },
    }),
    handler: async (deps, { caller, body, res }) => {
      const me = await adminOf(deps, caller);
      const identity = await identityOf(deps, me.email);
      if (!identity) throw dashboardNotFound();
      if (!/^rtn_[A-Za-z0-9_-]{10,190}$/.test(body.token))
        throw new AppError(422, "passkey_not_attached", "The passkey registration could not be completed. Try again.");
      let credentialId: string;
      try {
        credentialId = await withRenewedKey(deps, (o) =>
          consoleCalls(deps.env, o).attachPasskey(body.token, { id: identity.consumerId, handle: me.email }),
        );
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, "dashboard: passkey attach failed");
        throw new AppError(422, "passkey_not_attached", "The passkey registration could not be completed. Try again.");
      }
      await deps.prisma.dashboardAdminIdentity.update({
        where: { email: me.email },
        data: { passkeyCredentialId: credentialId, passkeyRegisteredAt: new Date() },
      });
      await writeAudit(deps, caller, {
        organizationId: me.organizationId,
        action: "admin.passkey_register",
        target: me.id,
        details: { credentialId },
      });
      return redirect(res, `${path("account", "passkey")}?done=1`);
    },
  }),
];

/** The signed-in organization admin's row (an operator has no passkey page: 404). */
async function adminOf(deps: AppDeps, caller: DashboardCaller) {
  const p = caller.principal;
  if (p.kind !== "orgAdmin") throw dashboardNotFound();
  const row = await deps.prisma.dashboardAdmin.findFirst({ where: { id: p.id, organizationId: p.organizationId } });
  if (!row) throw dashboardNotFound();
  return row;
}

/** The organization-admin part of the sign-in page (in sign-in.ts' page). */
export function adminSignInSection(opts: { next: string; email?: string; error?: string | null }): SafeHtml {
  return html`<section aria-labelledby="admin-heading">
<h2 id="admin-heading">Organization admin</h2>
<form method="post" action="${path("sign-in", "email")}">
<input type="hidden" name="next" value="${opts.next}">
${field({ name: "email", label: "Email address", type: "email", value: opts.email ?? "", required: true, autocomplete: "username", errors: opts.error ? { email: [opts.error] } : undefined, hint: "We send a code to this address if it belongs to an admin." })}
<button type="submit">Send me a code</button>
</form>
</section>`;
}

function signInPageWithEmailError(email: string, next: string): SafeHtml {
  return signInPage({ next, email, emailError: "Enter an email address (name@example.com)." });
}
