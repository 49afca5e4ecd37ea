import type { AdminPasskeyCredential } from "@authplane/contracts";
import type { AdminCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { toAdminCredential } from "../credentials.js";
import { findScopedCredential } from "./get-credential.js";
import { setCredentialActive } from "./update-credential.js";

/**
 * Admin API deactivate/reactivate: the credential of the caller's organization and mode (any other
 * is 404, like an unknown id), then exactly seed 003's update (same compare-and-set, same events).
 * A change is logged with who made it (operator or secret key; ids only, never a token or key).
 */
export async function changeCredentialActive(
  deps: AppDeps,
  input: AdminCaller & { credentialId: string; active: boolean },
): Promise<AdminPasskeyCredential> {
  const row = await findScopedCredential(deps, input.scope, input.credentialId);
  const now = await setCredentialActive(deps, row, input.active);
  if (row.isActive !== input.active) {
    deps.logger.info(
      { credentialId: row.id, organizationId: row.organizationId, mode: row.mode, active: input.active, actor: input.actor },
      input.active ? "passkey reactivated through the Admin API" : "passkey deactivated through the Admin API",
    );
  }
  return toAdminCredential(now);
}
