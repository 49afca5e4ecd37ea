import {
  type ApiKeyView,
  DEFAULT_SESSION_LIFETIME_SECONDS,
  type KeyKind,
  type Mode,
  type OrganizationSettings,
  type OrganizationView,
  type SettingsByMode,
} from "@authplane/contracts";
import type { ApiKey, Organization, OrganizationSettings as SettingsRow } from "./generated/prisma/client.js";

export const DEFAULT_SETTINGS = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 2_592_000,
  sessionLifetimeSeconds: DEFAULT_SESSION_LIFETIME_SECONDS,
} as const;

export function settingsView(row: SettingsRow | null | undefined): OrganizationSettings {
  if (!row) return { ...DEFAULT_SETTINGS, webauthn: null, allowedOrigins: [], smsAllowedCountries: [] };
  return {
    accessTokenTtlSeconds: row.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: row.refreshTokenTtlSeconds,
    sessionLifetimeSeconds: row.sessionLifetimeSeconds,
    webauthn:
      row.webauthnRpId && row.webauthnRpName
        ? {
            rpId: row.webauthnRpId,
            rpName: row.webauthnRpName,
            origins: row.webauthnOrigins,
            requireUserVerification: row.webauthnRequireUv,
          }
        : null,
    allowedOrigins: row.allowedOrigins,
    smsAllowedCountries: row.smsAllowedCountries,
  };
}

/** The settings of one mode out of an organization's settings rows (defaults if it has none). */
export function settingsOfMode(rows: SettingsRow[], mode: Mode): OrganizationSettings {
  return settingsView(rows.find((r) => r.mode === mode));
}

function settingsByMode(rows: SettingsRow[]): SettingsByMode {
  return { live: settingsOfMode(rows, "live"), test: settingsOfMode(rows, "test") };
}

/** `settings` is the live mode's (compatibility), `settingsByMode` both. */
export function organizationView(org: Organization & { settings: SettingsRow[] }): OrganizationView {
  const byMode = settingsByMode(org.settings);
  return { id: org.id, name: org.name, createdAt: org.createdAt.toISOString(), settings: byMode.live, settingsByMode: byMode };
}

/** Whether a key authenticates right now. */
export function isKeyUsable(key: Pick<ApiKey, "revokedAt" | "expiresAt">, now = new Date()): boolean {
  if (key.revokedAt) return false;
  return !key.expiresAt || key.expiresAt.getTime() > now.getTime();
}

export function keyView(key: ApiKey, now = new Date()): ApiKeyView {
  let status: ApiKeyView["status"] = "active";
  if (key.revokedAt) status = "revoked";
  else if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) status = "expired";
  else if (key.expiresAt) status = "expiring";
  return {
    id: key.id,
    kind: key.kind as KeyKind,
    mode: key.mode as Mode,
    prefix: key.prefix,
    last4: key.last4,
    display: `${key.prefix}…${key.last4}`,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    rotatedToKeyId: key.rotatedToKeyId,
    status,
  };
}
