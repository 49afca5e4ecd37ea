import { createHash } from "node:crypto";
import type { KeyKind, Mode } from "@authplane/contracts";
import { randomBase62 } from "@authplane/service-kit";

/** 32 base62 characters = 190.5 bits of randomness. */
export const KEY_RANDOM_LENGTH = 32;

function keyPrefix(kind: KeyKind, mode: Mode): string {
  return `${kind === "publishable" ? "pk" : "sk"}_${mode}_`;
}

export interface GeneratedKey {
  value: string;
  prefix: string;
  last4: string;
  hash: string;
}

/** A new `pk_live_…`/`pk_test_…`/`sk_live_…`/`sk_test_…` key with what is stored about it. */
export function generateApiKey(kind: KeyKind, mode: Mode): GeneratedKey {
  const prefix = keyPrefix(kind, mode);
  const value = prefix + randomBase62(KEY_RANDOM_LENGTH);
  return { value, prefix, last4: value.slice(-4), hash: hashApiKey(value) };
}

/**
 * SHA-256 (hex) of the full key. A fast unsalted hash is right here: keys carry 190 bits of
 * randomness, so there is nothing to brute-force, and lookups must be by an exact index.
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
