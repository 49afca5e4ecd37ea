import type { AdminPasskeyCredential } from "@authplane/contracts";
import type { AdminCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { toAdminCredential } from "../credentials.js";
import { Errors } from "../errors.js";
import type { Credential } from "../generated/prisma/client.js";

/** Admin API: one credential of the caller's organization and mode. */
export async function getCredential(deps: AppDeps, input: AdminCaller & { credentialId: string }): Promise<AdminPasskeyCredential> {
  return toAdminCredential(await findScopedCredential(deps, input.scope, input.credentialId));
}

/** The credential with this id in this organization and mode; another's is 404 exactly like an unknown id. */
export async function findScopedCredential(deps: AppDeps, scope: AdminCaller["scope"], credentialId: string): Promise<Credential> {
  const row = await deps.prisma.credential.findFirst({
    where: { id: credentialId, organizationId: scope.organizationId, mode: scope.mode },
  });
  if (!row) throw Errors.entityNotFound("No credential with this id.");
  return row;
}
