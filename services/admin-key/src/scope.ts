import type { Mode } from "@authplane/contracts";

/**
 * Whose keys and settings: an organization in one mode. Live and test are separate worlds, so every
 * query is scoped by both; a key of another organization or mode is simply "not found", and a key
 * reads and changes only the settings of its own mode (a shared sk_test_ cannot touch live ones).
 */
export interface Scope {
  organizationId: string;
  mode: Mode;
}

/** The caller of the Admin API (`Authorization: Bearer sk_…`): its key's scope and the key. */
export interface SecretKeyCaller {
  scope: Scope;
  keyId: string;
}

/** The caller of the operator API (`Authorization: Bearer <OPERATOR_TOKEN>`): the platform operator. */
export interface OperatorCaller {
  operator: true;
}
