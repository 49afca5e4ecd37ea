import type { AdminPasskeyCredential } from "@authplane/contracts";
import type { AdminCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { toAdminCredential } from "../credentials.js";
import { findScopedCredential } from "./get-credential.js";
import { setCredentialActive } from "./update-credential.js";

/**
 * Admin API deactivate/reactivate: the credential of the caller's organization and mode (any other
 * is 404, like an unknown id), then exactly seed 003's update (same compare-and-set, same events).
 */
export async function changeCredentialActive(
  deps: AppDeps,
  input: AdminCaller & { credentialId: string; active: boolean },
): Promise<AdminPasskeyCredential> {
  const row = await findScopedCredential(deps, input.scope, input.credentialId);
  return toAdminCredential(await setCredentialActive(deps, row, input.active));
}
