import { z } from "zod";

/**
 * ID prefixes that cross service boundaries. The seeds fix most of them (`org_`, `cons_`, `sess_`,
 * `guest_`, `exc_`, `ctl_`, `rtn_`, `atn_`); the rest follow the same style. Frozen: changing one
 * breaks stored data and clients.
 */
export const IdPrefix = {
  organization: "org_",
  key: "key_",
  consumer: "cons_",
  guest: "guest_",
  session: "sess_",
  exchangeCode: "exc_",
  credential: "ctl_",
  registrationToken: "rtn_",
  authenticationToken: "atn_",
  event: "evt_",
  signingKey: "sig_",
  delivery: "dlv_",
  otpRequest: "otp_",
} as const;
export type IdPrefix = (typeof IdPrefix)[keyof typeof IdPrefix];

/** Key modes: live and test are separate worlds; every record is scoped by organization and mode. */
export const Mode = z.enum(["live", "test"]);
export type Mode = z.infer<typeof Mode>;

export const KeyKind = z.enum(["publishable", "secret"]);
export type KeyKind = z.infer<typeof KeyKind>;

export const OrganizationId = z.string().regex(/^org_[0-9A-HJKMNP-TV-Z]{26}$/);
export type OrganizationId = z.infer<typeof OrganizationId>;

/** `pk_live_…`, `pk_test_…`, `sk_live_…`, `sk_test_…` followed by base62 randomness (>= 128 bits). */
export const ApiKeyPattern = /^(pk|sk)_(live|test)_[0-9A-Za-z]{22,64}$/;
export const ApiKeyString = z.string().regex(ApiKeyPattern);

/**
 * The passkey product's server SDKs take the secret key only in a form that starts with `secret_`
 * (the PHP SDK's constructor throws otherwise). That form is `secret_` + the whole `sk_live_…` /
 * `sk_test_…` key: the same key, not a second credential. The passkey server API strips the prefix
 * and verifies the rest, so nothing more is stored and rotating or revoking the key covers both.
 */
export const PASSKEY_SDK_SECRET_PREFIX = "secret_";

/** `sk_test_abc…` -> `secret_sk_test_abc…` (what to give the passkey server SDKs). */
export function passkeySdkSecret(secretKey: string): string {
  return `${PASSKEY_SDK_SECRET_PREFIX}${secretKey}`;
}

/** The key inside a `secret_…` passkey-SDK form; any other string is returned unchanged. */
export function fromPasskeySdkSecret(value: string): string {
  return value.startsWith(PASSKEY_SDK_SECRET_PREFIX) ? value.slice(PASSKEY_SDK_SECRET_PREFIX.length) : value;
}

/** Parses the kind and mode a key claims by its prefix (the key still has to be verified). */
export function parseApiKeyPrefix(key: string): { kind: KeyKind; mode: Mode } | null {
  const m = /^(pk|sk)_(live|test)_/.exec(key);
  if (!m) return null;
  return { kind: m[1] === "pk" ? "publishable" : "secret", mode: m[2] as Mode };
}
