import type { IntrospectResponse } from "@authplane/contracts";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import type { PrefetchedRevocation } from "../limits/request-gate.js";
import { sameScope, type Scope } from "../scope.js";
import type { AccessTokenClaims } from "../tokens/access-token-claims.js";
import { verifyAccessToken } from "./verify-access-token.js";

/**
 * POST /introspect: whether `token` is a live access token of `scope` (the caller's organization
 * and mode). A token of another scope, like a bad one, is `{active: false}`.
 */
export async function introspectToken(
  deps: Pick<AppDeps, "tokens" | "revocations">,
  input: { scope: Scope; token: string },
): Promise<IntrospectResponse> {
  const claims = await verifyAccessToken(deps, input.token);
  if (!claims || !sameScope(input.scope, claims)) return { active: false };
  return {
    active: true,
    consumerId: claims.consumerId,
    organizationId: claims.organizationId,
    sessionId: claims.sessionId,
    mode: claims.mode,
    exp: claims.exp,
  };
}

/**
 * GET /check: the claims of a live access token of `scope`, or 401. Local signature check and the
 * revocation markers the request's first Redis round trip read (RequestGate); no Postgres.
 */
export async function checkAccessToken(
  deps: Pick<AppDeps, "tokens" | "revocations">,
  input: { scope: Scope; token: string | null; prefetched: PrefetchedRevocation | null },
): Promise<AccessTokenClaims> {
  const claims = input.token ? await verifyAccessToken(deps, input.token, input.prefetched) : null;
  if (!claims || !sameScope(input.scope, claims)) throw appError(ErrorCatalog.authenticationRequired);
  return claims;
}
