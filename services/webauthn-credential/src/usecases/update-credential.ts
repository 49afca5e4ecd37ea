import { EventType, type PasskeyCredential, type UpdateCredentialRequest } from "@authplane/contracts";
import type { ServerCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { credentialEvent, outboxData, toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";

/**
 * Deactivates or reactivates a credential. Another organization's or mode's credential is a
 * PermissionViolation (seed 403); an unknown id is EntityNotFound. Events only on a real change:
 * `credentials.v1.updated`, plus `credentials.v1.deactivated` when it was turned off.
 */
export async function updateCredential(deps: AppDeps, input: ServerCaller & UpdateCredentialRequest): Promise<PasskeyCredential> {
  const { scope } = input;
  const row = await deps.prisma.credential.findFirst({ where: { id: input.credentialId } });
  if (!row) throw Errors.entityNotFound("No credential with this id.");
  if (row.organizationId !== scope.organizationId || row.mode !== scope.mode)
    throw Errors.permission("This credential belongs to another organization or mode (live/test).");
  if (row.isActive === input.active) return toCredentialObject(row);
  const updated = await deps.prisma.$transaction(async (tx) => {
    const next = await tx.credential.update({ where: { id: row.id }, data: { isActive: input.active } });
    await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialUpdated, next)) });
    if (!input.active) await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialDeactivated, next)) });
    return next;
  });
  deps.relay.kick();
  return toCredentialObject(updated);
}
