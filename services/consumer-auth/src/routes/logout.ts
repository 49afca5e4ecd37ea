import { parseApiKeyPrefix } from "@authplane/contracts";
import { crossOrigin } from "@authplane/service-kit";
import { Router } from "express";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import { consumeKeyBudget, sameScope } from "../http/auth.js";
import { assertOriginAllowed, organizationSettings } from "../http/cors.js";
import { revokeSession } from "../usecases/revoke-session.js";
import { bearerToken, verifySessionToken } from "../usecases/verify-access-token.js";

export function logoutRouter(deps: AppDeps): Router {
  const router = Router();
  /**
   * POST /logout with `Authorization: Bearer <access token>` -> 204. When the client also sends
   * its X-Publishable-Key (the SDKs do), the token must belong to that key's organization and mode.
   * An expired token of a live, unrevoked session is accepted (a session can always be ended; see
   * verifySessionToken). A page on another origin must be allowed by the token's organization.
   */
  router.post("/logout", async (req, res) => {
    const token = bearerToken(req.headers.authorization);
    const claims = token ? await verifySessionToken(deps, token) : null;
    if (!claims) throw appError(ErrorCatalog.authenticationRequired);
    const pk = req.headers["x-publishable-key"];
    if (typeof pk === "string") {
      let key = null;
      if (pk.length <= 200 && parseApiKeyPrefix(pk)) {
        // The key's budget (per key and client) before the lookup, as on every keyed endpoint.
        await consumeKeyBudget(deps, req, pk);
        key = await deps.keyVerifier.verify(pk);
      }
      if (key?.kind !== "publishable") throw appError(ErrorCatalog.authenticationRequired);
      assertOriginAllowed(req, res, key.settings);
      if (!sameScope(key, claims)) throw appError(ErrorCatalog.keyMismatch);
    } else if (crossOrigin(req) !== null) {
      // No key: the token's organization and mode decide which pages may end its sessions.
      const settings = await organizationSettings(deps, { organizationId: claims.organizationId, mode: claims.mode });
      assertOriginAllowed(req, res, settings ?? { allowedOrigins: [] });
    }
    const session = await deps.prisma.session.findFirst({ where: { id: claims.sessionId } });
    if (!session) throw appError(ErrorCatalog.authenticationRequired);
    await revokeSession(deps, { session, reason: "logout" });
    res.status(204).end();
  });
  return router;
}
