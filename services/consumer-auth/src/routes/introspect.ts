import { timingSafeEqual, createHash } from "node:crypto";
import { IntrospectRequest, type IntrospectResponse, parseApiKeyPrefix, type VerifiedKey } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { sameScope } from "../http/auth.js";
import { bearerToken, verifyAccessToken } from "../usecases/verify-access-token.js";

/** Constant-time comparison (hashes first so lengths never leak). */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** Gateway and internal-service endpoints: /introspect (keyed) and /check (token only, no Postgres). */
export function introspectRouter(deps: AppDeps): Router {
  const router = Router();

  /**
   * POST /introspect with `Authorization: Bearer sk_…` (answers only for that key's organization
   * and mode) or `Bearer <INTERNAL_INTROSPECTION_TOKEN>` (any organization).
   */
  router.post("/introspect", async (req, res) => {
    const bearer = bearerToken(req.headers.authorization);
    let key: VerifiedKey | null = null;
    const internal = deps.env.INTERNAL_INTROSPECTION_TOKEN;
    if (bearer && internal !== "" && safeEqual(bearer, internal)) {
      key = null;
    } else if (bearer && parseApiKeyPrefix(bearer)) {
      await deps.rateLimits.key.consume(createHash("sha256").update(bearer).digest("base64url").slice(0, 32));
      key = await deps.keyVerifier.verify(bearer);
      if (!key) throw appError(ErrorCatalog.authenticationRequired);
      if (key.kind !== "secret") throw appError(ErrorCatalog.secretKeyRequired);
    } else {
      throw appError(ErrorCatalog.authenticationRequired);
    }
    const body = parseInput(IntrospectRequest, req.body);
    const claims = await verifyAccessToken(deps, body.token);
    let out: IntrospectResponse = { active: false };
    if (claims && (!key || sameScope(key, claims))) {
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
   * GET /check (nginx auth_request style): 200 with X-Consumer-Id / X-Organization-Id /
   * X-Session-Id / X-Mode, or 401. Local signature check + one Redis EXISTS; no Postgres.
   */
  router.get("/check", async (req, res) => {
    const token = bearerToken(req.headers.authorization);
    const claims = token ? await verifyAccessToken(deps, token) : null;
    if (!claims) throw appError(ErrorCatalog.authenticationRequired);
    const pk = req.headers["x-publishable-key"];
    if (typeof pk === "string") {
      // A gateway forwarding the client's key: live tokens with live keys, same organization.
      const key = parseApiKeyPrefix(pk) ? await deps.keyVerifier.verify(pk) : null;
      if (!key || !sameScope(key, claims)) throw appError(ErrorCatalog.authenticationRequired);
    }
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Consumer-Id", claims.consumerId);
    res.setHeader("X-Organization-Id", claims.organizationId);
    res.setHeader("X-Session-Id", claims.sessionId);
    res.setHeader("X-Mode", claims.mode);
    res.status(200).end();
  });

  return router;
}
