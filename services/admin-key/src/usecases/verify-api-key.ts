import { ApiKeyPattern, type KeyKind, type Mode, type VerifiedKey } from "@authplane/contracts";
import { hashApiKey } from "../api-key-format.js";
import type { ApiKey, PrismaClient } from "../generated/prisma/client.js";
import { isKeyUsable, settingsOfMode } from "../views.js";

export interface VerifiedApiKey {
  reply: VerifiedKey;
  key: ApiKey;
}

/**
 * Looks a key up by its hash. Null when it is malformed, unknown, revoked or past its expiry.
 * Strings that cannot be keys are refused before touching the database.
 */
export async function verifyApiKey(prisma: PrismaClient, key: string, now = new Date()): Promise<VerifiedApiKey | null> {
  if (!ApiKeyPattern.test(key)) return null;
  const row = await prisma.apiKey.findUnique({
    where: { keyHash: hashApiKey(key) },
    include: { organization: { include: { settings: true } } },
  });
  if (!row || !isKeyUsable(row, now)) return null;
  const { organization, ...apiKey } = row;
  return {
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
  };
}
