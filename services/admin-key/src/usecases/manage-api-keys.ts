import {
  type ApiKeyView,
  EventType,
  IdPrefix,
  type IssuedApiKeyResponse,
  type KeyChangedData,
  type KeyKind,
  type Mode,
  passkeySdkSecret,
} from "@authplane/contracts";
import { newEvent, ulid } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import { generateApiKey } from "../api-key-format.js";
import { AdminErrors } from "../errors.js";
import type { ApiKey } from "../generated/prisma/client.js";
import type { Store, Tx } from "../store.js";
import { keyView } from "../views.js";

/**
 * Who is acting: an organization in one mode. Live and test are separate worlds, so every query
 * below is scoped by both; a key of another organization or mode is simply "not found".
 */
export interface KeyScope {
  organizationId: string;
  mode: Mode;
}

/** A new key's string, shown once (for a secret key also in the passkey SDKs' `secret_` form). */
export type IssuedKey = IssuedApiKeyResponse;

function issued(row: ApiKey, value: string, previous?: ApiKeyView): IssuedKey {
  return {
    key: keyView(row),
    value,
    ...(row.kind === "secret" ? { passkeySdkValue: passkeySdkSecret(value) } : {}),
    ...(previous ? { previous } : {}),
  };
}

export async function listApiKeys(store: Store, scope: KeyScope): Promise<ApiKeyView[]> {
  const rows = await store.prisma.apiKey.findMany({
    where: { organizationId: scope.organizationId, mode: scope.mode },
    orderBy: { id: "asc" },
  });
  const now = new Date();
  return rows.map((r) => keyView(r, now));
}

async function insertKey(tx: Tx, scope: KeyScope, kind: KeyKind, replacesKeyId: string | null) {
  const generated = generateApiKey(kind, scope.mode);
  const row = await tx.apiKey.create({
    data: {
      id: `${IdPrefix.key}${ulid()}`,
      organizationId: scope.organizationId,
      kind,
      mode: scope.mode,
      prefix: generated.prefix,
      last4: generated.last4,
      keyHash: generated.hash,
    },
  });
  await tx.outboxEvent.create({
    data: outboxData(
      newEvent(EventType.keyCreated, scope, {
        keyId: row.id,
        organizationId: scope.organizationId,
        kind,
        mode: scope.mode,
        prefix: row.prefix,
        last4: row.last4,
        replacesKeyId,
      }),
    ),
  });
  return { row, value: generated.value };
}

/** A new key of the caller's organization and mode. */
export async function createApiKey(store: Store, scope: KeyScope, kind: KeyKind): Promise<IssuedKey> {
  const { row, value } = await store.prisma.$transaction((tx) => insertKey(tx, scope, kind, null));
  store.afterCommit();
  return issued(row, value);
}

function changedData(row: ApiKey): KeyChangedData {
  return {
    keyId: row.id,
    organizationId: row.organizationId,
    kind: row.kind as KeyKind,
    mode: row.mode as Mode,
    expiresAt: row.revokedAt ? null : (row.expiresAt?.toISOString() ?? null),
  };
}

/**
 * Issues a replacement key; the old one keeps working for `expiresInSeconds` (0: stops at once).
 * The conditional update makes two concurrent rotations of one key yield one winner.
 */
export async function rotateApiKey(store: Store, scope: KeyScope, keyId: string, expiresInSeconds: number): Promise<IssuedKey> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000);
  const result = await store.prisma.$transaction(async (tx) => {
    const old = await tx.apiKey.findFirst({ where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode } });
    if (!old) throw AdminErrors.keyNotFound();
    const issued = await insertKey(tx, scope, old.kind as KeyKind, old.id);
    const { count } = await tx.apiKey.updateMany({
      where: { id: old.id, revokedAt: null, rotatedToKeyId: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      data: { expiresAt, rotatedToKeyId: issued.row.id },
    });
    if (count !== 1) throw AdminErrors.keyNotActive(); // rolls the new key back too
    const updated = { ...old, expiresAt, rotatedToKeyId: issued.row.id };
    await tx.outboxEvent.create({
      data: outboxData(newEvent(EventType.keyRotated, scope, { ...changedData(updated), replacedByKeyId: issued.row.id })),
    });
    return { issued, updated };
  });
  store.afterCommit();
  return issued(result.issued.row, result.issued.value, keyView(result.updated));
}

/** Revokes a key at once. Revoking a revoked key changes nothing and publishes nothing. */
export async function revokeApiKey(store: Store, scope: KeyScope, keyId: string): Promise<ApiKeyView> {
  const now = new Date();
  const { row, changed } = await store.prisma.$transaction(async (tx) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode, revokedAt: null },
      data: { revokedAt: now },
    });
    const row = await tx.apiKey.findFirst({ where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode } });
    if (!row) throw AdminErrors.keyNotFound();
    if (count === 1) await tx.outboxEvent.create({ data: outboxData(newEvent(EventType.keyRevoked, scope, changedData(row))) });
    return { row, changed: count === 1 };
  });
  if (changed) store.afterCommit();
  return keyView(row);
}

/** Operator variant (CLI): finds the key's organization and mode first. */
export async function scopeOfKey(store: Store, keyId: string): Promise<KeyScope> {
  const row = await store.prisma.apiKey.findFirst({ where: { id: keyId }, select: { organizationId: true, mode: true } });
  if (!row) throw AdminErrors.keyNotFound();
  return { organizationId: row.organizationId, mode: row.mode as Mode };
}
