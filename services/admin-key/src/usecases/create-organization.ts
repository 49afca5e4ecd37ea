import {
  EventType,
  type KeyKind,
  type Mode,
  type OrganizationKeys,
  type OrganizationView,
  type WebAuthnSettingsInput,
  IdPrefix,
  passkeySdkSecret,
  TokenTtlBounds,
} from "@authplane/contracts";
import { newEvent, ulid, ValidationError } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import { generateApiKey } from "../api-key-format.js";
import type { Store } from "../store.js";
import { DEFAULT_SETTINGS, organizationView } from "../views.js";
import { validateAllowedOrigins } from "./validate-allowed-origins.js";
import { validateWebAuthn } from "./validate-webauthn.js";

export interface CreateOrganizationInput {
  name: string;
  webauthn?: WebAuthnSettingsInput;
  settings?: { accessTokenTtlSeconds?: number; refreshTokenTtlSeconds?: number; sessionLifetimeSeconds?: number };
  /** Consumer-API browser origins, for both modes. */
  allowedOrigins?: readonly string[];
}

export interface CreatedOrganizationResult {
  organization: OrganizationView;
  /** The four key strings: returned once, never stored in clear. */
  keys: OrganizationKeys;
}

const KINDS: KeyKind[] = ["publishable", "secret"];
const MODES: Mode[] = ["live", "test"];

/** Creates an organization, its settings and its four keys, with their events, in one transaction. */
export async function createOrganization(deps: Store, input: CreateOrganizationInput): Promise<CreatedOrganizationResult> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new ValidationError([{ path: ["name"], message: "must be 1 to 200 characters" }]);
  const webauthn = input.webauthn ? validateWebAuthn(input.webauthn) : null;
  const allowedOrigins = validateAllowedOrigins(input.allowedOrigins ?? []);
  const access = input.settings?.accessTokenTtlSeconds ?? DEFAULT_SETTINGS.accessTokenTtlSeconds;
  const refresh = input.settings?.refreshTokenTtlSeconds ?? DEFAULT_SETTINGS.refreshTokenTtlSeconds;
  const lifetime = input.settings?.sessionLifetimeSeconds ?? DEFAULT_SETTINGS.sessionLifetimeSeconds;
  assertTtls(access, refresh, lifetime);

  const orgId = `${IdPrefix.organization}${ulid()}`;
  const generated = KINDS.flatMap((kind) =>
    MODES.map((mode) => ({ id: `${IdPrefix.key}${ulid()}`, kind, mode, key: generateApiKey(kind, mode) })),
  );

  const org = await deps.prisma.$transaction(async (tx) => {
    const created = await tx.organization.create({
      data: {
        id: orgId,
        name,
        // Both modes start with the same settings; each mode's secret keys change only their own.
        settings: {
          create: MODES.map((mode) => ({
            mode,
            accessTokenTtlSeconds: access,
            refreshTokenTtlSeconds: refresh,
            sessionLifetimeSeconds: lifetime,
            webauthnRpId: webauthn?.rpId ?? null,
            webauthnRpName: webauthn?.rpName ?? null,
            webauthnOrigins: webauthn?.origins ?? [],
            allowedOrigins,
            webauthnRequireUv: webauthn?.requireUserVerification ?? false,
          })),
        },
      },
      include: { settings: true },
    });
    await tx.apiKey.createMany({
      data: generated.map((g) => ({
        id: g.id,
        organizationId: orgId,
        kind: g.kind,
        mode: g.mode,
        prefix: g.key.prefix,
        last4: g.key.last4,
        keyHash: g.key.hash,
      })),
    });
    const view = organizationView(created);
    const events = [
      newEvent(
        EventType.organizationCreated,
        { organizationId: orgId, mode: null },
        { organizationId: orgId, name, settings: view.settings, settingsByMode: view.settingsByMode },
      ),
      ...generated.map((g) =>
        newEvent(
          EventType.keyCreated,
          { organizationId: orgId, mode: g.mode },
          { keyId: g.id, organizationId: orgId, kind: g.kind, mode: g.mode, prefix: g.key.prefix, last4: g.key.last4, replacesKeyId: null },
        ),
      ),
    ];
    await tx.outboxEvent.createMany({ data: events.map(outboxData) });
    return view;
  });
  deps.afterCommit();

  const keyValue = (kind: KeyKind, mode: Mode) => generated.find((g) => g.kind === kind && g.mode === mode)?.key.value ?? "";
  return {
    organization: org,
    keys: {
      publishable: { live: keyValue("publishable", "live"), test: keyValue("publishable", "test") },
      secret: { live: keyValue("secret", "live"), test: keyValue("secret", "test") },
      passkeySdkSecret: { live: passkeySdkSecret(keyValue("secret", "live")), test: passkeySdkSecret(keyValue("secret", "test")) },
    },
  };
}

export function assertTtls(access: number, refresh: number, lifetime: number): void {
  const issues: Array<{ path: string[]; message: string }> = [];
  const { access: a, refresh: r, session: l } = TokenTtlBounds;
  if (!Number.isInteger(access) || access < a.min || access > a.max)
    issues.push({ path: ["accessTokenTtlSeconds"], message: `must be an integer from ${a.min} to ${a.max}` });
  if (!Number.isInteger(refresh) || refresh < r.min || refresh > r.max)
    issues.push({ path: ["refreshTokenTtlSeconds"], message: `must be an integer from ${r.min} to ${r.max}` });
  if (!Number.isInteger(lifetime) || lifetime < l.min || lifetime > l.max)
    issues.push({ path: ["sessionLifetimeSeconds"], message: `must be an integer from ${l.min} to ${l.max}` });
  if (!issues.length && refresh < access)
    issues.push({ path: ["refreshTokenTtlSeconds"], message: "must not be shorter than accessTokenTtlSeconds" });
  if (!issues.length && lifetime < access)
    issues.push({ path: ["sessionLifetimeSeconds"], message: "must not be shorter than accessTokenTtlSeconds" });
  if (issues.length) throw new ValidationError(issues);
}
