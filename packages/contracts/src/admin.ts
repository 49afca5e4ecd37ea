import { z } from "zod";
import { KeyKind, Mode } from "./ids.js";
import { MAX_ALLOWED_ORIGINS, OrganizationSettings, WebAuthnSettings } from "./keys.js";

/**
 * admin-key: operator API, the organization's own Admin API (secret key), `orgs.v1.get` and the
 * data of organization/key events. Key strings appear only in responses that create them.
 */

/** Allowed origins as sent (validated and normalised by admin-key: see its README). */
export const AllowedOriginsInput = z.array(z.string().max(2048)).max(MAX_ALLOWED_ORIGINS);
export type AllowedOriginsInput = z.infer<typeof AllowedOriginsInput>;

/** Bounds of the per-organization token lifetimes (seconds). */
export const TokenTtlBounds = {
  access: { min: 60, max: 86_400 },
  refresh: { min: 300, max: 31_536_000 },
  /** Absolute session lifetime; never shorter than the access-token TTL. */
  session: { min: 300, max: 31_536_000 },
} as const;

/** POST /api/v1/organizations (operator). */
export const CreateOrganizationRequest = z.object({
  name: z.string().trim().min(1).max(200),
  webauthn: WebAuthnSettings.optional(),
  /** Consumer-API browser origins of both modes (see OrganizationSettings.allowedOrigins). */
  allowedOrigins: AllowedOriginsInput.optional(),
});
export type CreateOrganizationRequest = z.infer<typeof CreateOrganizationRequest>;

/**
 * Settings exist per organization AND mode (live and test are separate worlds: a test key never
 * changes live settings). Both modes' settings, e.g. in the operator's view of an organization.
 */
export const SettingsByMode = z.object({ live: OrganizationSettings, test: OrganizationSettings });
export type SettingsByMode = z.infer<typeof SettingsByMode>;

export const OrganizationView = z.object({
  id: z.string().startsWith("org_"),
  name: z.string(),
  createdAt: z.string().datetime(),
  /** The LIVE mode's settings (kept for compatibility; see settingsByMode). */
  settings: OrganizationSettings,
  /** Each mode's settings. */
  settingsByMode: SettingsByMode,
});
export type OrganizationView = z.infer<typeof OrganizationView>;

/**
 * The four keys of a new organization, shown once; `passkeySdkSecret` is each secret key in the
 * form the passkey server SDKs take (`secret_` + the `sk_…` key, see `passkeySdkSecret`).
 */
export const OrganizationKeys = z.object({
  publishable: z.object({ live: z.string(), test: z.string() }),
  secret: z.object({ live: z.string(), test: z.string() }),
  passkeySdkSecret: z.object({ live: z.string(), test: z.string() }),
});
export type OrganizationKeys = z.infer<typeof OrganizationKeys>;

/** 201 of POST /api/v1/organizations. */
export const CreateOrganizationResponse = z.object({ organization: OrganizationView, keys: OrganizationKeys });
export type CreateOrganizationResponse = z.infer<typeof CreateOrganizationResponse>;

/** A key as listed: never the key itself, only its prefix and last four characters. */
export const ApiKeyView = z.object({
  id: z.string().startsWith("key_"),
  kind: KeyKind,
  mode: Mode,
  prefix: z.string(),
  last4: z.string(),
  /** `sk_test_…abcd`, for display. */
  display: z.string(),
  createdAt: z.string().datetime(),
  expiresAt: z.string().datetime().nullable(),
  revokedAt: z.string().datetime().nullable(),
  rotatedToKeyId: z.string().nullable(),
  /** active | expiring (rotated, still works) | expired | revoked */
  status: z.enum(["active", "expiring", "expired", "revoked"]),
});
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** POST /api/v1/keys: a new key of the caller's mode. */
export const CreateApiKeyRequest = z.object({ kind: KeyKind });
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** POST /api/v1/keys/:id/rotate. 0 = the old key stops at once. Max 30 days. */
export const RotateApiKeyRequest = z.object({
  expiresInSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(86_400),
});
export type RotateApiKeyRequest = z.infer<typeof RotateApiKeyRequest>;

/**
 * 201 of create and rotate: the new key's string, shown once. Rotate adds `previous`. A secret key
 * also comes as `passkeySdkValue`, the form the passkey server SDKs take (`secret_` + `value`).
 */
export const IssuedApiKeyResponse = z.object({
  key: ApiKeyView,
  value: z.string(),
  passkeySdkValue: z.string().optional(),
  previous: ApiKeyView.optional(),
});
export type IssuedApiKeyResponse = z.infer<typeof IssuedApiKeyResponse>;

/**
 * `webauthn` of a settings PATCH: the relying party is replaced whole, except that an omitted
 * `requireUserVerification` keeps its current value (an edit of the origins never silently turns
 * user verification off).
 */
export const WebAuthnSettingsPatch = WebAuthnSettings.extend({ requireUserVerification: z.boolean().optional() });
export type WebAuthnSettingsPatch = z.infer<typeof WebAuthnSettingsPatch>;

/** PATCH /api/v1/organizations/current/settings. `webauthn: null` clears the relying party. */
export const UpdateSettingsRequest = z
  .object({
    accessTokenTtlSeconds: z.number().int().min(TokenTtlBounds.access.min).max(TokenTtlBounds.access.max).optional(),
    refreshTokenTtlSeconds: z.number().int().min(TokenTtlBounds.refresh.min).max(TokenTtlBounds.refresh.max).optional(),
    sessionLifetimeSeconds: z.number().int().min(TokenTtlBounds.session.min).max(TokenTtlBounds.session.max).optional(),
    webauthn: WebAuthnSettingsPatch.nullable().optional(),
    /** Replaces the list (`[]` clears it). */
    allowedOrigins: AllowedOriginsInput.optional(),
    /** Replaces the list of SMS destination countries (ISO 3166-1 alpha-2; `[]`: every country). */
    smsAllowedCountries: z
      .array(
        z
          .string()
          .trim()
          .toUpperCase()
          .regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 country code"),
      )
      .max(300)
      .optional(),
  })
  .strict();
export type UpdateSettingsRequest = z.infer<typeof UpdateSettingsRequest>;

/**
 * Request of `orgs.v1.get`. Settings are per mode: `mode` picks whose settings the reply carries
 * (default "live", which is what the reply meant before settings were per mode).
 */
export const OrgGetRequest = z.object({ organizationId: z.string().min(1).max(100), mode: Mode.optional() });
export type OrgGetRequest = z.infer<typeof OrgGetRequest>;

/** Reply of `orgs.v1.get`: `settings` are those of the requested mode (default live). */
export const OrgGetReply = z.discriminatedUnion("found", [
  z.object({ found: z.literal(true), organization: z.object({ id: z.string(), name: z.string() }), settings: OrganizationSettings }),
  z.object({ found: z.literal(false) }),
]);
export type OrgGetReply = z.infer<typeof OrgGetReply>;

/** Names of the settings fields a PATCH can change. */
export const SettingsField = z.enum([
  "accessTokenTtlSeconds",
  "refreshTokenTtlSeconds",
  "sessionLifetimeSeconds",
  "webauthn",
  "allowedOrigins",
  "smsAllowedCountries",
]);
export type SettingsField = z.infer<typeof SettingsField>;

/**
 * Data of `organizations.v1.created` (envelope mode null: `settings` = live, `settingsByMode` both)
 * and `organizations.v1.settings_updated` (envelope mode = the mode changed; `settings` are that
 * mode's new settings, `mode` repeats it, `fields` names the fields the request set).
 */
export const OrganizationEventData = z.object({
  organizationId: z.string(),
  name: z.string(),
  settings: OrganizationSettings,
  settingsByMode: SettingsByMode.optional(),
  mode: Mode.optional(),
  fields: z.array(SettingsField).optional(),
});
export type OrganizationEventData = z.infer<typeof OrganizationEventData>;

/** Data of `organizations.v1.created`: `settings` are the live mode's, `settingsByMode` both modes'. */
export const OrganizationCreatedData = OrganizationEventData.extend({ settingsByMode: SettingsByMode }).omit({ mode: true, fields: true });
export type OrganizationCreatedData = z.infer<typeof OrganizationCreatedData>;

/** Data of `organizations.v1.settings_updated`: one mode's new settings and the fields the request set. */
export const OrganizationSettingsUpdatedData = OrganizationEventData.extend({ mode: Mode, fields: z.array(SettingsField) }).omit({
  settingsByMode: true,
});
export type OrganizationSettingsUpdatedData = z.infer<typeof OrganizationSettingsUpdatedData>;

/** Data of `keys.v1.created` (never the key). `keys.v1.rotated`/`revoked` carry KeyChangedData. */
export const KeyCreatedData = z.object({
  keyId: z.string(),
  organizationId: z.string(),
  kind: KeyKind,
  mode: Mode,
  prefix: z.string(),
  last4: z.string(),
  /** The key this one replaces (rotation). */
  replacesKeyId: z.string().nullable(),
});
export type KeyCreatedData = z.infer<typeof KeyCreatedData>;

// --- Response bodies of the Admin and operator APIs (read by the Node client and the API documents) ---

/** 200 of GET /api/v1/keys. */
export const ListApiKeysResponse = z.object({ keys: z.array(ApiKeyView) });
export type ListApiKeysResponse = z.infer<typeof ListApiKeysResponse>;

/** 200 of POST /api/v1/keys/:id/revoke. */
export const RevokeApiKeyResponse = z.object({ key: ApiKeyView });
export type RevokeApiKeyResponse = z.infer<typeof RevokeApiKeyResponse>;

/** 200 of GET/PATCH …/settings (one mode's settings). */
export const SettingsResponse = z.object({ settings: OrganizationSettings });
export type SettingsResponse = z.infer<typeof SettingsResponse>;

/** 200 of GET /api/v1/organizations/:id (operator). */
export const OrganizationResponse = z.object({ organization: OrganizationView });
export type OrganizationResponse = z.infer<typeof OrganizationResponse>;

/** 200 of GET /api/v1/organizations (operator): newest first; pass `nextBefore` as `before` for the next page. */
export const ListOrganizationsResponse = z.object({ organizations: z.array(OrganizationView), nextBefore: z.string().nullable() });
export type ListOrganizationsResponse = z.infer<typeof ListOrganizationsResponse>;
