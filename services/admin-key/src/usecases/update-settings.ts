import { EventType, type OrganizationSettings, SettingsField, type UpdateSettingsRequest } from "@authplane/contracts";
import { newEvent } from "@authplane/service-kit";
import { Errors } from "../errors.js";
import { outboxData } from "../events/outbox.js";
import type { Scope } from "../scope.js";
import type { Reader, Store } from "../store.js";
import { settingsOfMode, settingsView } from "../views.js";
import { assertTtls } from "./create-organization.js";
import { validateAllowedOrigins } from "./validate-allowed-origins.js";
import { validateWebAuthn } from "./validate-webauthn.js";

/** One mode's settings of an organization (see `Scope`). */
export async function getSettings(deps: Reader, scope: Scope): Promise<OrganizationSettings> {
  const org = await deps.prisma.organization.findFirst({
    where: { id: scope.organizationId },
    include: { settings: { where: { mode: scope.mode } } },
  });
  if (!org) throw Errors.organizationNotFound();
  return settingsOfMode(org.settings, scope.mode);
}

const FIELDS: readonly SettingsField[] = SettingsField.options;

/**
 * Updates the token lifetimes, the session lifetime, the WebAuthn relying party and/or the consumer
 * API's allowed browser origins of ONE mode, and announces it
 * (`organizations.v1.settings_updated` with that mode in the envelope; it also drops the
 * organization from callers' key caches).
 */
export async function updateSettings(deps: Store, input: Scope & { patch: UpdateSettingsRequest }): Promise<OrganizationSettings> {
  const { organizationId, mode, patch } = input;
  const webauthn = patch.webauthn ? validateWebAuthn(patch.webauthn) : patch.webauthn;
  const allowedOrigins = patch.allowedOrigins === undefined ? undefined : validateAllowedOrigins(patch.allowedOrigins);
  const settings = await deps.prisma.$transaction(async (tx) => {
    // Lock the row so that two concurrent patches cannot combine into an invalid pair of TTLs.
    // (an UPDATE holds the row lock until the transaction ends).
    await tx.organizationSettings.updateMany({ where: { organizationId, mode }, data: { updatedAt: new Date() } });
    const org = await tx.organization.findFirst({ where: { id: organizationId }, include: { settings: { where: { mode } } } });
    if (!org) throw Errors.organizationNotFound();
    const current = settingsOfMode(org.settings, mode);
    const access = patch.accessTokenTtlSeconds ?? current.accessTokenTtlSeconds;
    const refresh = patch.refreshTokenTtlSeconds ?? current.refreshTokenTtlSeconds;
    const lifetime = patch.sessionLifetimeSeconds ?? current.sessionLifetimeSeconds;
    assertTtls(access, refresh, lifetime);
    // An omitted requireUserVerification keeps the current value (never turned off by an edit of the origins).
    const requireUv = patch.webauthn?.requireUserVerification ?? current.webauthn?.requireUserVerification ?? false;
    const webauthnData =
      webauthn === undefined
        ? {}
        : {
            webauthnRpId: webauthn?.rpId ?? null,
            webauthnRpName: webauthn?.rpName ?? null,
            webauthnOrigins: webauthn?.origins ?? [],
            webauthnRequireUv: webauthn ? requireUv : false,
          };
    const originsData = {
      ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
      ...(patch.smsAllowedCountries === undefined ? {} : { smsAllowedCountries: [...new Set(patch.smsAllowedCountries)].sort() }),
    };
    const row = await tx.organizationSettings.upsert({
      where: { organizationId_mode: { organizationId, mode } },
      create: {
        organizationId,
        mode,
        accessTokenTtlSeconds: access,
        refreshTokenTtlSeconds: refresh,
        sessionLifetimeSeconds: lifetime,
        ...webauthnData,
        ...originsData,
      },
      update: {
        accessTokenTtlSeconds: access,
        refreshTokenTtlSeconds: refresh,
        sessionLifetimeSeconds: lifetime,
        ...webauthnData,
        ...originsData,
        updatedAt: new Date(),
      },
    });
    const settings = settingsView(row);
    const fields = FIELDS.filter((f) => patch[f] !== undefined);
    await tx.outboxEvent.create({
      data: outboxData(
        newEvent(
          EventType.organizationSettingsUpdated,
          { organizationId, mode },
          { organizationId, name: org.name, mode, fields, settings },
        ),
      ),
    });
    return settings;
  });
  deps.afterCommit();
  return settings;
}
