import { createHmac } from "node:crypto";
import { type Mode, type PasskeyUserRef, userHandleOf } from "@authplane/contracts";
import { Errors } from "./errors.js";

/**
 * The form of a username that lookups compare: surrounding white space removed, Unicode NFKC
 * (compatibility forms: full-width letters, ligatures, …) and full case folding. JavaScript has
 * no `casefold()`; upper-casing before lower-casing gives the full folding of the characters that
 * matter for names ("ß" and "SS" → "ss", final and medial sigma → "σ"/"ς" by position alike,
 * "K" (Kelvin) → "k"), and NFKC again after it because case mapping can denormalise.
 */
export function foldUsername(username: string): string {
  return username.trim().normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
}

/**
 * The only thing stored about a username: HMAC-SHA256 keyed with USERNAME_HASH_SECRET over the
 * organization, the mode and the folded name, base64url. Keyed, so a database dump does not let
 * anyone test guesses without the secret; scoped, so the same name in two organizations (or in
 * live and test) gives unrelated hashes.
 */
export class UsernameHasher {
  constructor(private readonly secret: string) {}

  hash(scope: { organizationId: string; mode: Mode | string }, username: string): string {
    return createHmac("sha256", this.secret)
      .update(`username\u0000${scope.organizationId}\u0000${scope.mode}\u0000${foldUsername(username)}`)
      .digest("base64url");
  }
}

/**
 * The username of a request's `user` (`handle` or its alias `username`; null when neither):
 * InvalidInput when both are given and differ, or when it is blank once folded.
 */
export function usernameOf(user: PasskeyUserRef | undefined): string | null {
  let handle: string | null;
  try {
    handle = userHandleOf(user);
  } catch (err) {
    throw Errors.invalidInput((err as Error).message);
  }
  if (handle !== null && foldUsername(handle) === "") throw Errors.invalidInput("user.username (handle) must not be blank.");
  return handle;
}
