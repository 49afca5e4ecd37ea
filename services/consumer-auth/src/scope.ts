import type { Mode } from "@authplane/contracts";

/** An organization and mode (live or test): what keys, tokens, sessions and consumers belong to. */
export interface Scope {
  organizationId: string;
  mode: Mode;
}

/** Does a token's scope match the key's organization and mode (live with live, test with test)? */
export function sameScope(key: Scope, claims: Scope): boolean {
  return key.organizationId === claims.organizationId && key.mode === claims.mode;
}

/**
 * A caller of the Admin API: the platform operator (OPERATOR_TOKEN, naming the organization and
 * mode in X-Organization-Id + X-Mode) or the organization's server with its secret key (that key's
 * organization and mode). Everything it reads or changes is in `scope`.
 */
export interface AdminCaller {
  scope: Scope;
  actor: "operator" | "secretKey";
}
