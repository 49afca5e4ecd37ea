import { createHash, randomBytes } from "node:crypto";
import { IdPrefix } from "@authplane/contracts";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID (48-bit ms timestamp + 80 random bits, Crockford base32): sortable by creation time. */
export function ulid(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[(bytes[i] ?? 0) % 32];
  return time + rand;
}

export const newCredentialId = () => `${IdPrefix.credential}${ulid()}`;

/** A one-time token: prefix + 256 random bits. Only its hash is used as a Redis key. */
export function newOneTimeToken(prefix: typeof IdPrefix.registrationToken | typeof IdPrefix.authenticationToken): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
