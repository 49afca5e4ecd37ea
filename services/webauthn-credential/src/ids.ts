import { createHash, randomBytes } from "node:crypto";
import { IdPrefix } from "@authplane/contracts";
import { ulid } from "@authplane/service-kit";

export const newCredentialId = () => `${IdPrefix.credential}${ulid()}`;

/** A one-time token: prefix + 256 random bits. Only its hash is used as a Redis key. */
export function newOneTimeToken(prefix: typeof IdPrefix.registrationToken | typeof IdPrefix.authenticationToken): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
