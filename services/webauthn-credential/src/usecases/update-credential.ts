import { EventType, type PasskeyCredential, type UpdateCredentialRequest } from "@authplane/contracts";
import type { ServerCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { credentialEvent, outboxData, toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";
import type { Credential } from "../generated/prisma/client.js";

/**
 * Deactivates or reactivates a credential (seed 003 `/credential/update`). Another organization's
 * or mode's credential is a PermissionViolation (seed 403); an unknown id is EntityNotFound.
 */
export async function updateCredential(deps: AppDeps, input: ServerCaller & UpdateCredentialRequest): Promise<PasskeyCredential> {
  const { scope } = input;
  const row = await deps.prisma.credential.findFirst({ where: { id: input.credentialId } });
  if (!row) throw Errors.entityNotFound("No credential with this id.");
  if (row.organizationId !== scope.organizationId || row.mode !== scope.mode)
    throw Errors.permission("This credential belongs to another organization or mode (live/test).");
  return toCredentialObject(await setCredentialActive(deps, row, input.active));
}

/**
 * The one way a credential is turned off or on (seed 003's update and the Admin API's
 * deactivate/reactivate): a compare-and-set on `is_active`, so events come only with a real
 * change, once even when two calls race: `credentials.v1.updated`, plus
 * `credentials.v1.deactivated` when it was turned off, in the same transaction (outbox). A
 * deactivated credential cannot sign in (`/assertion/process` checks `is_active`, and its
 * counter update requires it). Returns the row as it is now.
 */
export async function setCredentialActive(deps: AppDeps, row: Credential, active: boolean): Promise<Credential> {
  if (row.isActive === active) return row;
  const updated = await deps.prisma.$transaction(async (tx) => {
    const changed = await tx.credential.updateMany({ where: { id: row.id, isActive: !active }, data: { isActive: active } });
    const next = await tx.credential.findFirstOrThrow({ where: { id: row.id } });
    if (changed.count !== 1) return next;
    await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialUpdated, next)) });
    if (!active) await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialDeactivated, next)) });
    return next;
  });
  deps.relay.kick();
  return updated;
}
