import { z } from "zod";

/**
 * Passkey API (seed 003 server API + the client API of DESIGN.md). Binary WebAuthn fields are
 * base64url without padding. Unknown fields are ignored (SDKs of newer versions may send more).
 */

const Id = z.string().min(1).max(255);
/**
 * An optional user field: the server SDKs type it `string | null` and send `null` for "not
 * given" (Node `username: string | null`, PHP `'handle' => null`), so `null` means absent.
 */
const OptionalId = Id.nullish().transform((v) => v ?? undefined);
const B64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, "must be base64url without padding")
  .max(16_384);

/**
 * A user reference. Server SDKs send `username` where the seed says `handle`: both name the same
 * field (use `userHandleOf`). Every field may be `null`, which means absent.
 */
export const PasskeyUserRef = z.object({
  id: OptionalId,
  handle: OptionalId,
  username: OptionalId,
});
export type PasskeyUserRef = z.infer<typeof PasskeyUserRef>;

/** `handle` or its alias `username`; null when neither; throws when both differ. */
export function userHandleOf(user: PasskeyUserRef | undefined): string | null {
  if (!user) return null;
  if (user.handle !== undefined && user.username !== undefined && user.handle !== user.username)
    throw new Error("user.handle and user.username are the same field and must not differ");
  return user.handle ?? user.username ?? null;
}

export const AuthenticatorTransport = z.enum(["usb", "nfc", "ble", "smart-card", "hybrid", "internal", "cable"]);

/** `RegistrationResponseJSON` as browsers (PublicKeyCredential.toJSON) and SDKs send it. */
export const RegistrationResponseJSON = z.object({
  id: B64url.min(1),
  rawId: B64url.min(1),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: B64url.min(1),
    attestationObject: B64url.min(1),
    authenticatorData: B64url.optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: B64url.optional(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).nullish(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});
export type RegistrationResponseJSON = z.infer<typeof RegistrationResponseJSON>;

/** `AuthenticationResponseJSON`. */
export const AuthenticationResponseJSON = z.object({
  id: B64url.min(1),
  rawId: B64url.min(1),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: B64url.min(1),
    authenticatorData: B64url.min(1),
    signature: B64url.min(1),
    userHandle: B64url.nullish(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).nullish(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});
export type AuthenticationResponseJSON = z.infer<typeof AuthenticationResponseJSON>;

// ---- client API (publishable key) ----

/** POST /attestation/options. `user` is optional: a name shown by the passkey manager. */
export const AttestationOptionsRequest = z.object({
  upgrade: z.boolean().nullish(),
  user: z
    .object({
      id: OptionalId,
      handle: OptionalId,
      username: OptionalId,
      name: OptionalId,
      displayName: OptionalId,
    })
    .nullish()
    .transform((v) => v ?? undefined),
});
export type AttestationOptionsRequest = z.infer<typeof AttestationOptionsRequest>;

export const AttestationProcessRequest = z.object({ credential: RegistrationResponseJSON });
export type AttestationProcessRequest = z.infer<typeof AttestationProcessRequest>;

/** POST /assertion/options: `{user:{username}}`, `{user:{id}}`, or `{}` (autofill). */
export const AssertionOptionsRequest = z.object({ user: PasskeyUserRef.nullish().transform((v) => v ?? undefined) });
export type AssertionOptionsRequest = z.infer<typeof AssertionOptionsRequest>;

export const AssertionProcessRequest = z.object({
  credential: AuthenticationResponseJSON,
  user: PasskeyUserRef.nullish().transform((v) => v ?? undefined),
});
export type AssertionProcessRequest = z.infer<typeof AssertionProcessRequest>;

/** `result` of /attestation/process and /assertion/process. */
export const OneTimeTokenResult = z.object({
  token: z.string().regex(/^(rtn|atn)_[A-Za-z0-9_-]+$/),
  /** Unix seconds. */
  expiresAt: z.number().int(),
});
export type OneTimeTokenResult = z.infer<typeof OneTimeTokenResult>;

// ---- server API (secret key) ----

export const AttachRegistrationRequest = z.object({
  token: z.string().min(1).max(200),
  user: PasskeyUserRef.extend({ id: Id }),
});
export type AttachRegistrationRequest = z.infer<typeof AttachRegistrationRequest>;

export const VerifyAuthTokenRequest = z.object({ token: z.string().min(1).max(200) });
export type VerifyAuthTokenRequest = z.infer<typeof VerifyAuthTokenRequest>;

/**
 * `result` of POST /auth/verify: the seed's `{user: {id}}` (the username is never returned), plus
 * what seed 003 says it will expose about the factors used, as fields the SDKs ignore: the
 * credential used and whether the authenticator verified the user (biometrics/PIN).
 */
export const VerifyAuthTokenResult = z.object({
  user: z.object({ id: z.string() }),
  credential: z.object({ id: z.string().startsWith("ctl_"), name: z.string(), isBackedUp: z.boolean() }).optional(),
  userVerified: z.boolean().optional(),
});
export type VerifyAuthTokenResult = z.infer<typeof VerifyAuthTokenResult>;

export const UpdateCredentialRequest = z.object({ credentialId: z.string().min(1).max(100), active: z.boolean() });
export type UpdateCredentialRequest = z.infer<typeof UpdateCredentialRequest>;

export const FindCredentialsRequest = z.object({ user: PasskeyUserRef });
export type FindCredentialsRequest = z.infer<typeof FindCredentialsRequest>;

/** The seed's credential object. */
export const PasskeyCredential = z.object({
  id: z.string().startsWith("ctl_"),
  name: z.string(),
  aaguid: z.string(),
  isActive: z.boolean(),
  isBackupEligible: z.boolean(),
  isBackedUp: z.boolean(),
  isUvInitialized: z.boolean(),
  transports: z.array(z.string()),
  /** Unix seconds. */
  createdAt: z.number(),
});
export type PasskeyCredential = z.infer<typeof PasskeyCredential>;

// ---- events ----

/**
 * Data of `credentials.v1.created`, `credentials.v1.updated` and `credentials.v1.deactivated`.
 * The user is its id only: usernames are kept as a one-way hash and never leave the service.
 */
export const CredentialEventData = z.object({
  credential: PasskeyCredential,
  user: z.object({ id: z.string() }),
});
export type CredentialEventData = z.infer<typeof CredentialEventData>;

/** Data of `passkeys.v1.authenticated`. */
export const PasskeyAuthenticatedData = z.object({
  credentialId: z.string().startsWith("ctl_"),
  user: z.object({ id: z.string() }),
  userVerified: z.boolean(),
  backedUp: z.boolean(),
});
export type PasskeyAuthenticatedData = z.infer<typeof PasskeyAuthenticatedData>;

// ---- answers (`result` of the wrapped responses; the OpenAPI document is generated from these) ----

const CredentialDescriptorJSON = z.object({
  id: B64url.min(1),
  type: z.literal("public-key"),
  transports: z.array(z.string()).optional(),
});

/** `PublicKeyCredentialCreationOptionsJSON` (WebAuthn L3) as the client API sends it. */
export const PublicKeyCredentialCreationOptionsJSON = z.object({
  rp: z.object({ id: z.string().optional(), name: z.string() }),
  user: z.object({ id: B64url.min(1), name: z.string(), displayName: z.string() }),
  challenge: B64url.min(1),
  pubKeyCredParams: z.array(z.object({ alg: z.number().int(), type: z.literal("public-key") })),
  timeout: z.number().int().optional(),
  excludeCredentials: z.array(CredentialDescriptorJSON).optional(),
  authenticatorSelection: z
    .object({
      residentKey: z.enum(["discouraged", "preferred", "required"]).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
      authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
    })
    .optional(),
  attestation: z.enum(["none", "indirect", "direct", "enterprise"]).optional(),
  attestationFormats: z.array(z.string()).optional(),
  /** Extension inputs (e.g. `credProps`), passed to the browser as they are. */
  extensions: z.unknown().optional(),
  hints: z.array(z.string()).optional(),
});
export type PublicKeyCredentialCreationOptionsJSON = z.infer<typeof PublicKeyCredentialCreationOptionsJSON>;

/** `PublicKeyCredentialRequestOptionsJSON` (WebAuthn L3) as the client API sends it. */
export const PublicKeyCredentialRequestOptionsJSON = z.object({
  challenge: B64url.min(1),
  timeout: z.number().int().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(CredentialDescriptorJSON).optional(),
  userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
  extensions: z.unknown().optional(),
  hints: z.array(z.string()).optional(),
});
export type PublicKeyCredentialRequestOptionsJSON = z.infer<typeof PublicKeyCredentialRequestOptionsJSON>;

/** `result` of POST /attestation/options: `mediation: "conditional"` for `upgrade: true`. */
export const AttestationOptionsResult = z.object({
  publicKey: PublicKeyCredentialCreationOptionsJSON,
  mediation: z.literal("conditional").optional(),
});
export type AttestationOptionsResult = z.infer<typeof AttestationOptionsResult>;

/** `result` of POST /assertion/options: `mediation: "conditional"` without a user (autofill). */
export const AssertionOptionsResult = z.object({
  publicKey: PublicKeyCredentialRequestOptionsJSON,
  mediation: z.literal("conditional").optional(),
});
export type AssertionOptionsResult = z.infer<typeof AssertionOptionsResult>;

/** `result` of POST /registration/attach. */
export const AttachRegistrationResult = z.object({ id: z.string().startsWith("ctl_") });
export type AttachRegistrationResult = z.infer<typeof AttachRegistrationResult>;

/** `result` of POST /credential/find: oldest first, active and inactive. */
export const FindCredentialsResult = z.object({ data: z.array(PasskeyCredential) });
export type FindCredentialsResult = z.infer<typeof FindCredentialsResult>;
