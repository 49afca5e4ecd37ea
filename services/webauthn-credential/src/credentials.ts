import type { AdminPasskeyCredential, EventEnvelope, EventType, PasskeyCredential } from "@authplane/contracts";
import { newEvent, outboxRow } from "@authplane/service-kit";
import { knownAuthenticatorName } from "./aaguids.js";
import type { Credential, Prisma } from "./generated/prisma/client.js";

/** The seed's credential object (createdAt in unix seconds). */
export function toCredentialObject(row: Credential): PasskeyCredential {
  return {
    id: row.id,
    name: row.name,
    aaguid: row.aaguid,
    isActive: row.isActive,
    isBackupEligible: row.isBackupEligible,
    isBackedUp: row.isBackedUp,
    isUvInitialized: row.isUvInitialized,
    transports: row.transports,
    createdAt: Math.floor(row.createdAt.getTime() / 1000),
  };
}

/** The Admin API's credential (ISO timestamps, the user, the authenticator's name, last use). */
export function toAdminCredential(row: Credential): AdminPasskeyCredential {
  return {
    id: row.id,
    userId: row.userId,
    name: row.name,
    aaguid: row.aaguid,
    authenticatorName: knownAuthenticatorName(row.aaguid),
    isActive: row.isActive,
    isBackupEligible: row.isBackupEligible,
    isBackedUp: row.isBackedUp,
    transports: row.transports,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
  };
}

type CredentialEventType = typeof EventType.credentialCreated | typeof EventType.credentialUpdated | typeof EventType.credentialDeactivated;

/** `credentials.v1.*` event for a row (data: CredentialEventData). */
export function credentialEvent(type: CredentialEventType, row: Credential): EventEnvelope {
  return newEvent(
    type,
    { organizationId: row.organizationId, mode: row.mode === "live" ? "live" : "test" },
    { credential: toCredentialObject(row), user: { id: row.userId } },
  );
}

/** Prisma data for the outbox row announcing `event` (written in the same transaction). */
export function outboxData(event: EventEnvelope): Prisma.OutboxEventCreateInput {
  const row = outboxRow(event);
  return { id: row.id, type: row.type, payload: row.payload as unknown as Prisma.InputJsonValue };
}
