import type { AttestationProcessRequest } from "@authplane/contracts";
import { type RegistrationResponseJSON, verifyRegistrationResponse } from "@simplewebauthn/server";
import type { ClientCaller } from "../scope.js";
import { challengeOf } from "../client-data.js";
import type { AppDeps } from "../deps.js";
import { Errors, publicVerifyMessage } from "../errors.js";
import { knownTransports } from "../transports.js";

/**
 * Verifies a registration response against a challenge this organization issued (consumed first:
 * a failed attempt spends it too) and the organization's rpId and origins, then parks the
 * verified credential under a one-time rtn_ token until the backend attaches it to a user.
 */
export async function finishRegistration(
  deps: AppDeps,
  input: ClientCaller & AttestationProcessRequest,
): Promise<{ token: string; expiresAt: number }> {
  const { scope, rp } = input;
  const response = input.credential as RegistrationResponseJSON;
  const challenge = challengeOf(response.response.clientDataJSON);
  const record = await deps.challenges.consume(scope, "registration", challenge);
  if (!record) throw Errors.challengeExpired("registration challenge");
  if (record.rpId !== rp.rpId) throw Errors.malformed("The relying party changed since the options were issued; start again.");

  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: false,
    });
  } catch (err) {
    throw Errors.malformed(`The registration response did not verify: ${publicVerifyMessage(err)}`);
  }
  if (!verified.verified) throw Errors.malformed("The registration response did not verify.");
  const info = verified.registrationInfo;
  // The organization's setting now, or when the options were issued: turning it on applies at once.
  if ((rp.requireUserVerification || record.requireUv) && !info.userVerified) throw Errors.userVerificationRequired();

  // No "already registered" here: with attestation "none" anyone can claim any credential id, so
  // that answer would tell the publishable key which ids exist. A passkey registered twice is
  // refused when the backend attaches it (409, unique credential id), with the secret key.
  return deps.tokens.issue("registration", {
    organizationId: scope.organizationId,
    mode: scope.mode,
    webauthnId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
    counter: info.credential.counter,
    aaguid: info.aaguid,
    isBackupEligible: info.credentialDeviceType === "multiDevice",
    isBackedUp: info.credentialBackedUp,
    isUvInitialized: info.userVerified,
    transports: knownTransports(response.response.transports ?? info.credential.transports),
  });
}
