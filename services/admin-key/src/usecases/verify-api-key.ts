import { ApiKeyPattern, type KeyInvalidReason, type KeyKind, type Mode, type VerifiedKey } from "@authplane/contracts";
import { hashApiKey } from "../api-key-format.js";
import type { ApiKey } from "../generated/prisma/client.js";
import type { Reader } from "../store.js";
import { isKeyUsable, settingsOfMode } from "../views.js";

export interface VerifiedApiKey {
  reply: VerifiedKey;
  key: ApiKey;
}

export type ApiKeyCheck = { ok: true; verified: VerifiedApiKey } | { ok: false; reason: KeyInvalidReason };

/** Looks a key up by its hash. Null when it is malformed, unknown, revoked or past its expiry. */
export async function verifyApiKey(deps: Reader, input: { key: string; now?: Date }): Promise<VerifiedApiKey | null> {
  const checked = await checkApiKey(deps, input);
  return checked.ok ? checked.verified : null;
}

/**
 * Looks a key up by its hash and says why it does not authenticate: `not_found` (malformed or
 * unknown; strings that cannot be keys are refused before touching the database), `revoked`, or
 * `expired` (a rotated key past its expiry). Only a caller holding the whole key learns this.
 */
export async function checkApiKey(deps: Reader, input: { key: string; now?: Date }): Promise<ApiKeyCheck> {
  const { key, now = new Date() } = input;
  if (!ApiKeyPattern.test(key)) return { ok: false, reason: "not_found" };
  const row = await deps.prisma.apiKey.findFirst({
    where: { keyHash: hashApiKey(key) },
    include: { organization: { include: { settings: true } } },
  });
  if (!row) return { ok: false, reason: "not_found" };
  if (!isKeyUsable(row, now)) return { ok: false, reason: row.revokedAt ? "revoked" : "expired" };
  const { organization, ...apiKey } = row;
  return {
    ok: true,
    verified: {
      key: apiKey,
      reply: {
        valid: true,
        keyId: row.id,
        organizationId: organization.id,
        organizationName: organization.name,
        mode: row.mode as Mode,
        kind: row.kind as KeyKind,
        expiresAt: row.expiresAt?.toISOString() ?? null,
        // The settings of the key's own mode only: a test key never sees (or carries) live settings.
        settings: settingsOfMode(organization.settings, row.mode as Mode),
      },
    },
  };
}
