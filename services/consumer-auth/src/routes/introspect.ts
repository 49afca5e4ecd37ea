import { createHash, timingSafeEqual } from "node:crypto";
import { IntrospectRequest, type IntrospectResponse, Mode, OrganizationId, parseApiKeyPrefix } from "@authplane/contracts";
import { AppError, parseInput } from "@authplane/service-kit";
import type { Request } from "express";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { consumeKeyBudget, sameScope } from "../http/auth.js";
import { revocationReadByGate } from "../limits/request-gate.js";
import { bearerToken, verifyAccessToken } from "../usecases/verify-access-token.js";

/** Constant-time comparison (hashes first so lengths never leak). */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** The organization and mode a check is bound to: a token of any other scope is refused. */
export interface CheckScope {
  organizationId: string;
  mode: Mode;
}

function unbound(message: string): AppError {
  return new AppError(401, ErrorCatalog.authenticationRequired.code, message);
}

/** Does `value` carry the internal caller credential (INTERNAL_INTROSPECTION_TOKEN, when set)? */
function isInternal(deps: AppDeps, value: string | null | undefined): boolean {
  const internal = deps.env.INTERNAL_INTROSPECTION_TOKEN;
  return typeof value === "string" && internal !== "" && safeEqual(value, internal);
}

/**
 * The scope an internal caller names explicitly: `X-Organization-Id` + `X-Mode`, both required.
 * Only ever read once the caller proved it holds the internal token.
 */
function namedScope(req: Request): CheckScope {
  const org = OrganizationId.safeParse(req.headers["x-organization-id"]);
  const mode = Mode.safeParse(req.headers["x-mode"]);
  if (!org.success || !mode.success)
    throw unbound("An internal caller must name the organization and mode (X-Organization-Id and X-Mode).");
  return { organizationId: org.data, mode: mode.data };
}

/** Gateway and internal-service endpoints: /introspect (keyed) and /check (token + key, no Postgres). */
export function introspectRouter(deps: AppDeps): Router {
  const router = Router();

  /**
   * POST /introspect. `Authorization: Bearer sk_…` answers only for that key's organization and
   * mode; `Bearer <INTERNAL_INTROSPECTION_TOKEN>` answers only for the organization and mode named
   * in `X-Organization-Id` + `X-Mode` (required). A token of another scope is `{active: false}`.
   */
  router.post("/introspect", async (req, res) => {
    const bearer = bearerToken(req.headers.authorization);
    let scope: CheckScope;
    if (isInternal(deps, bearer)) {
      scope = namedScope(req);
    } else if (bearer && parseApiKeyPrefix(bearer)) {
      await consumeKeyBudget(deps, req, bearer);
      const key = await deps.keyVerifier.verify(bearer);
      if (!key) throw appError(ErrorCatalog.authenticationRequired);
      if (key.kind !== "secret") throw appError(ErrorCatalog.secretKeyRequired);
      scope = key;
    } else {
      throw appError(ErrorCatalog.authenticationRequired);
    }
    const body = parseInput(IntrospectRequest, req.body);
    const claims = await verifyAccessToken(deps, body.token);
    let out: IntrospectResponse = { active: false };
    if (claims && sameScope(scope, claims)) {
      out = {
        active: true,
        consumerId: claims.consumerId,
        organizationId: claims.organizationId,
        sessionId: claims.sessionId,
        mode: claims.mode,
        exp: claims.exp,
      };
    }
    res.setHeader("Cache-Control", "no-store");
    res.status(200).json(out);
  });

  /**
   * The scope a /check is bound to. The client's `X-Publishable-Key` (forwarded by the gateway,
   * as seed 000's authenticated consumer calls carry it) binds the token to that key's
   * organization and mode; an internal caller (`X-Internal-Token: <INTERNAL_INTROSPECTION_TOKEN>`)
   * names them in `X-Organization-Id` + `X-Mode`. When both are present both must agree. With
   * neither there is nothing to bind the token to: 401.
   */
  async function checkScope(req: Request): Promise<CheckScope> {
    const internal = req.headers["x-internal-token"];
    const named = isInternal(deps, typeof internal === "string" ? internal : null) ? namedScope(req) : null;
    const pk = req.headers["x-publishable-key"];
    if (typeof pk === "string") {
      const raw = pk.trim();
      let key = null;
      if (raw.length <= 200 && raw.startsWith("pk_") && parseApiKeyPrefix(raw)) {
        await consumeKeyBudget(deps, req, raw);
        key = await deps.keyVerifier.verify(raw);
      }
      if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
      if (named && !sameScope(key, named)) throw appError(ErrorCatalog.authenticationRequired);
      return key;
    }
    if (named) return named;
    throw unbound("X-Publishable-Key is required: the token is only valid for its own organization and mode.");
  }

  /**
   * GET /check (nginx auth_request style): 200 with X-Consumer-Id / X-Organization-Id /
   * X-Session-Id / X-Mode, or 401. Local signature check + one Redis round trip; no Postgres.
   */
  router.get("/check", async (req, res) => {
    const scope = await checkScope(req);
    const token = bearerToken(req.headers.authorization);
    const claims = token ? await verifyAccessToken(deps, token, revocationReadByGate(req)) : null;
    if (!claims || !sameScope(scope, claims)) throw appError(ErrorCatalog.authenticationRequired);
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Consumer-Id", claims.consumerId);
    res.setHeader("X-Organization-Id", claims.organizationId);
    res.setHeader("X-Session-Id", claims.sessionId);
    res.setHeader("X-Mode", claims.mode);
    res.status(200).end();
  });

  return router;
}
