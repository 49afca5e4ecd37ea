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
