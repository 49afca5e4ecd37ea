import {
  type ApiKeyView,
  EventType,
  IdPrefix,
  type IssuedApiKeyResponse,
  type KeyChangedData,
  type KeyKind,
  type Mode,
  type RotateApiKeyRequest,
  passkeySdkSecret,
} from "@authplane/contracts";
import { newEvent, ulid } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import { generateApiKey } from "../api-key-format.js";
import { Errors } from "../errors.js";
import type { ApiKey } from "../generated/prisma/client.js";
import type { Scope } from "../scope.js";
import type { Reader, Store, Tx } from "../store.js";
import { keyView } from "../views.js";

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

/** The keys of one organization and mode (see `Scope`). */
export async function listApiKeys(deps: Reader, scope: Scope): Promise<ApiKeyView[]> {
  const rows = await deps.prisma.apiKey.findMany({
    where: { organizationId: scope.organizationId, mode: scope.mode },
    orderBy: { id: "asc" },
  });
  const now = new Date();
  return rows.map((r) => keyView(r, now));
}

async function insertKey(tx: Tx, scope: Scope, kind: KeyKind, replacesKeyId: string | null) {
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
export async function createApiKey(deps: Store, input: Scope & { kind: KeyKind }): Promise<IssuedKey> {
  const scope = { organizationId: input.organizationId, mode: input.mode };
  const { row, value } = await deps.prisma.$transaction((tx) => insertKey(tx, scope, input.kind, null));
  deps.afterCommit();
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
export async function rotateApiKey(deps: Store, input: Scope & RotateApiKeyRequest & { keyId: string }): Promise<IssuedKey> {
  const { keyId, expiresInSeconds } = input;
  const scope = { organizationId: input.organizationId, mode: input.mode };
  const now = new Date();
  const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000);
  const result = await deps.prisma.$transaction(async (tx) => {
    const old = await tx.apiKey.findFirst({ where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode } });
    if (!old) throw Errors.keyNotFound();
    const issued = await insertKey(tx, scope, old.kind as KeyKind, old.id);
    const { count } = await tx.apiKey.updateMany({
      where: { id: old.id, revokedAt: null, rotatedToKeyId: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      data: { expiresAt, rotatedToKeyId: issued.row.id },
    });
    if (count !== 1) throw Errors.keyNotActive(); // rolls the new key back too
    const updated = { ...old, expiresAt, rotatedToKeyId: issued.row.id };
    await tx.outboxEvent.create({
      data: outboxData(newEvent(EventType.keyRotated, scope, { ...changedData(updated), replacedByKeyId: issued.row.id })),
    });
    return { issued, updated };
  });
  deps.afterCommit();
  return issued(result.issued.row, result.issued.value, keyView(result.updated));
}

/** Revokes a key at once. Revoking a revoked key changes nothing and publishes nothing. */
export async function revokeApiKey(deps: Store, input: Scope & { keyId: string }): Promise<ApiKeyView> {
  const { keyId } = input;
  const scope = { organizationId: input.organizationId, mode: input.mode };
  const now = new Date();
  const { row, changed } = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode, revokedAt: null },
      data: { revokedAt: now },
    });
    const row = await tx.apiKey.findFirst({ where: { id: keyId, organizationId: scope.organizationId, mode: scope.mode } });
    if (!row) throw Errors.keyNotFound();
    if (count === 1) await tx.outboxEvent.create({ data: outboxData(newEvent(EventType.keyRevoked, scope, changedData(row))) });
    return { row, changed: count === 1 };
  });
  if (changed) deps.afterCommit();
  return keyView(row);
}

/** Operator variant (CLI): finds the key's organization and mode first. */
export async function scopeOfKey(deps: Reader, input: { keyId: string }): Promise<Scope> {
  const row = await deps.prisma.apiKey.findFirst({ where: { id: input.keyId }, select: { organizationId: true, mode: true } });
  if (!row) throw Errors.keyNotFound();
  return { organizationId: row.organizationId, mode: row.mode as Mode };
}
