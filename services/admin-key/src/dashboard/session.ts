import { createHash, createHmac, randomBytes } from "node:crypto";
import { ulid } from "@authplane/service-kit";
import type { Request, Response } from "express";
import type { AppDeps } from "../deps.js";
import type { DashboardSession as SessionRow } from "../generated/prisma/client.js";
import type { Principal } from "./principal.js";

/**
 * Server-side console sessions (`dashboard_sessions`). The cookie holds a random 256-bit token;
 * the table holds only its SHA-256, so a copy of the database signs nobody in. The CSRF token is
 * an HMAC of the session token (nothing more to store, unguessable without the cookie, and it
 * changes with every sign-in).
 *
 * A session ends at sign-out, after DASHBOARD_IDLE_TIMEOUT_SECONDS without a request, or
 * DASHBOARD_ABSOLUTE_TIMEOUT_SECONDS after sign-in, whichever comes first.
 *
 * Cookie: `HttpOnly; SameSite=Strict`. With DASHBOARD_SECURE_COOKIE (default in production) it is
 * `__Host-authplane_dashboard; Secure; Path=/` — the `__Host-` prefix makes browsers refuse the
 * cookie unless it is Secure, host-only (no Domain: a sibling subdomain cannot plant one) and
 * `Path=/` (the prefix requires it). Without it (http://localhost development) it is
 * `authplane_dashboard; Path=/dashboard`.
 */

export interface DashboardSession {
  id: string;
  principal: Principal;
  /** The token forms and fetches must send back (hidden `_csrf` field or `X-CSRF-Token`). */
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

type SessionEnv = Pick<
  AppDeps["env"],
  "NODE_ENV" | "DASHBOARD_SECURE_COOKIE" | "DASHBOARD_IDLE_TIMEOUT_SECONDS" | "DASHBOARD_ABSOLUTE_TIMEOUT_SECONDS"
>;

/** Whether the cookie is `Secure` with the `__Host-` prefix. */
function secureCookie(env: SessionEnv): boolean {
  return env.DASHBOARD_SECURE_COOKIE ? env.DASHBOARD_SECURE_COOKIE === "true" : env.NODE_ENV === "production";
}

function cookieName(env: SessionEnv): string {
  return secureCookie(env) ? "__Host-authplane_dashboard" : "authplane_dashboard";
}

function cookieAttributes(env: SessionEnv): string {
  return secureCookie(env) ? "Path=/; Secure; HttpOnly; SameSite=Strict" : "Path=/dashboard; HttpOnly; SameSite=Strict";
}

function hashToken(token: string): string {
  return createHash("sha256").update(`dashboard-session:${token}`).digest("hex");
}

function csrfTokenOf(token: string): string {
  return createHmac("sha256", token).update("dashboard-csrf").digest("base64url");
}

/** The session token of the request's cookie, or null. */
function tokenOf(req: Request, env: SessionEnv, name = cookieName(env)): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // 32 random bytes, base64url: anything else is not a token of ours (not even looked up).
    return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
  }
  return null;
}

/** The row's principal; null for a row that is neither (never read as an operator by default). */
function principalOf(row: SessionRow): Principal | null {
  if (row.principalKind === "orgAdmin" && row.organizationId)
    return { kind: "orgAdmin", id: row.principalId, label: row.principalLabel, organizationId: row.organizationId };
  if (row.principalKind === "operator" && !row.organizationId) return { kind: "operator", id: row.principalId, label: row.principalLabel };
  return null;
}

/**
 * Signs `principal` in: a new session row and its cookie. An earlier session of this browser is
 * ended first (a fresh token at every sign-in: no fixation). Expired rows are swept on the way.
 */
export async function startSession(deps: AppDeps, req: Request, res: Response, principal: Principal): Promise<DashboardSession> {
  const { env } = deps;
  const old = tokenOf(req, env);
  const now = new Date();
  if (old)
    await deps.prisma.dashboardSession.updateMany({ where: { tokenHash: hashToken(old), revokedAt: null }, data: { revokedAt: now } });
  await deps.prisma.dashboardSession.deleteMany({ where: { expiresAt: { lt: now } } });
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + env.DASHBOARD_ABSOLUTE_TIMEOUT_SECONDS * 1000);
  const row = await deps.prisma.dashboardSession.create({
    data: {
      id: `dsn_${ulid()}`,
      tokenHash: hashToken(token),
      principalKind: principal.kind,
      principalId: principal.id,
      principalLabel: principal.label,
      organizationId: principal.kind === "orgAdmin" ? principal.organizationId : null,
      ip: req.ip ?? null,
      userAgent: (req.headers["user-agent"] ?? "").slice(0, 300) || null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    },
  });
  // No Max-Age: a browser session cookie; the server-side timeouts are what count.
  res.append("Set-Cookie", `${cookieName(env)}=${token}; ${cookieAttributes(env)}`);
  return { id: row.id, principal, csrfToken: csrfTokenOf(token), createdAt: row.createdAt, expiresAt };
}

/** Writes seconds-granular idle bookkeeping at most this often per session. */
const TOUCH_EVERY_MS = 15_000;

/**
 * The request's live session, or null (no cookie, unknown token, signed out, idle too long, or
 * past its absolute timeout). A live session's idle clock restarts.
 */
export async function currentSession(deps: AppDeps, req: Request): Promise<DashboardSession | null> {
  const { env } = deps;
  const token = tokenOf(req, env);
  if (!token) return null;
  const row = await deps.prisma.dashboardSession.findFirst({ where: { tokenHash: hashToken(token) } });
  if (!row || row.revokedAt) return null;
  const principal = principalOf(row);
  if (!principal) return null;
  const now = Date.now();
  if (row.expiresAt.getTime() <= now) return null;
  if (row.lastSeenAt.getTime() + env.DASHBOARD_IDLE_TIMEOUT_SECONDS * 1000 <= now) return null;
  if (now - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS)
    await deps.prisma.dashboardSession.update({ where: { id: row.id }, data: { lastSeenAt: new Date(now) } });
  return { id: row.id, principal, csrfToken: csrfTokenOf(token), createdAt: row.createdAt, expiresAt: row.expiresAt };
}

/** Signs out: the session row is revoked and the cookie cleared. */
export async function endSession(deps: AppDeps, session: DashboardSession, res: Response): Promise<void> {
  await deps.prisma.dashboardSession.updateMany({ where: { id: session.id, revokedAt: null }, data: { revokedAt: new Date() } });
  clearSessionCookie(deps, res);
}

/** Tells the browser to drop the cookie (sign-out, or a cookie naming no live session). */
export function clearSessionCookie(deps: Pick<AppDeps, "env">, res: Response): void {
  res.append("Set-Cookie", `${cookieName(deps.env)}=; ${cookieAttributes(deps.env)}; Max-Age=0`);
}

/** Whether the request carries a session cookie at all (to tell "expired" from "never signed in"). */
export function hasSessionCookie(deps: Pick<AppDeps, "env">, req: Request): boolean {
  return tokenOf(req, deps.env) !== null;
}

/**
 * The organization-admin sign-in in progress (email → code → passkey → organization) is a second
 * cookie with the same attributes (`…_pending`), holding a random token that names its state in
 * Redis (see pages/admin-sign-in.ts). It is not a session: it opens no page.
 */
function pendingCookieName(env: SessionEnv): string {
  return `${cookieName(env)}_pending`;
}

export function pendingTokenOf(deps: Pick<AppDeps, "env">, req: Request): string | null {
  return tokenOf(req, deps.env, pendingCookieName(deps.env));
}

/** Sets (a new random token, returned) or clears (`null`) the pending sign-in cookie. */
export function setPendingCookie(deps: Pick<AppDeps, "env">, res: Response, set: boolean): string | null {
  if (!set) {
    res.append("Set-Cookie", `${pendingCookieName(deps.env)}=; ${cookieAttributes(deps.env)}; Max-Age=0`);
    return null;
  }
  const token = randomBytes(32).toString("base64url");
  res.append("Set-Cookie", `${pendingCookieName(deps.env)}=${token}; ${cookieAttributes(deps.env)}`);
  return token;
}

/** The CSRF token of a pending sign-in's forms (an HMAC of its token, like a session's). */
export function pendingCsrfOf(token: string): string {
  return createHmac("sha256", token).update("dashboard-pending-csrf").digest("base64url");
}
