import { randomBytes } from "node:crypto";
import type { AttestationOptionsRequest } from "@authplane/contracts";
import { generateRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import type { ClientCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { decoyCredentials } from "../decoys.js";
import { foldUsername, usernameOf } from "../usernames.js";

export interface RegistrationOptionsResult {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
  mediation?: "conditional";
}

/**
 * Creation options for a new passkey. The WebAuthn user.id is random per registration: the
 * credential is tied to your user only when your backend attaches the rtn_ token. When the SDK
 * names a user, excludeCredentials holds that name's decoys, never the user's real passkeys
 * (which would let the publishable key enumerate users and credential ids). `upgrade: true` asks
 * for conditional create (upgrade a password sign-in). With the organization's
 * `requireUserVerification`, the authenticator is asked to verify the user ("required").
 */
export async function startRegistration(
  deps: AppDeps,
  input: ClientCaller & AttestationOptionsRequest,
): Promise<RegistrationOptionsResult> {
  const { scope, rp } = input;
  const handle = usernameOf(input.user);
  const userName = input.user?.name ?? handle ?? input.user?.id ?? "Passkey";
  // With only the publishable key, anyone can ask for any name: listing that user's real passkeys
  // would tell who has them (and their ids). Every named request gets the name's decoys instead
  // (decoys.ts, kept apart from the sign-in decoys), the same shape whoever the name belongs to.
  // A passkey registered twice is still refused at /attestation/process (same credential id).
  const asked = input.user?.id ? `id:${input.user.id}` : handle ? `handle:${foldUsername(handle)}` : null;
  const excludeCredentials = asked ? decoyCredentials(deps.env.DECOY_CREDENTIAL_SECRET, scope, "exclusion", asked) : [];
  const challenge = await deps.challenges.issue(scope, "registration", {
    rpId: rp.rpId,
    allow: [],
    user: null,
    requireUv: rp.requireUserVerification,
  });
  const publicKey = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName,
    userDisplayName: input.user?.displayName ?? userName,
    userID: Uint8Array.from(randomBytes(32)),
    challenge,
    timeout: deps.env.CHALLENGE_TTL_SECONDS * 1000,
    attestationType: "none",
    excludeCredentials,
    authenticatorSelection: { residentKey: "preferred", userVerification: rp.requireUserVerification ? "required" : "preferred" },
  });
  return input.upgrade ? { publicKey, mediation: "conditional" } : { publicKey };
}
