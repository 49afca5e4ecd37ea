import { type AssertionProcessRequest, EventType } from "@authplane/contracts";
import { newEvent, passkeyCounterAnomalyMetric, ulid } from "@authplane/service-kit";
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from "@simplewebauthn/server";
import type { ClientCaller } from "../scope.js";
import { challengeOf } from "../client-data.js";
import type { AppDeps } from "../deps.js";
import { outboxData } from "../credentials.js";
import { Errors, publicVerifyMessage } from "../errors.js";
import { usernameOf } from "../usernames.js";
import { knownTransports } from "../transports.js";
import { UNKNOWN_CREDENTIAL_PUBLIC_KEY } from "../decoys.js";

/**
 * Verifies an assertion: challenge (consumed first), then signature, rpId and origin against the
 * credential of this organization and mode (an unknown id and a wrong signature are one error,
 * AuthenticatingUserAccountNotFound), then active (UsingDeactivatedCredential), allowed by the options,
 * the named user's, and the signature counter. Issues a
 * one-time atn_ token naming the credential's user.
 *
 * Counter rule (WebAuthn §6.1.1): when either the stored or the received counter is non-zero,
 * the received one must be greater. Synced passkeys report 0 forever and pass; a counter that
 * does not move forward is a possible cloned authenticator: refused and recorded.
 */
export async function finishAuthentication(
  deps: AppDeps,
  input: ClientCaller & AssertionProcessRequest,
): Promise<{ token: string; expiresAt: number }> {
  const { scope, rp } = input;
  const response = input.credential as AuthenticationResponseJSON;
  const expectedHandle = usernameOf(input.user);
  const challenge = challengeOf(response.response.clientDataJSON);
  const record = await deps.challenges.consume(scope, "authentication", challenge);
  if (!record) throw Errors.challengeExpired("authentication challenge");
  if (record.rpId !== rp.rpId) throw Errors.malformed("The relying party changed since the options were issued; start again.");

  const row = await deps.prisma.credential.findFirst({
    where: { organizationId: scope.organizationId, mode: scope.mode, webauthnId: response.id },
    include: { account: { select: { usernameHash: true } } },
  });

  // The signature first, for known and unknown ids alike: an unknown id (never attached, deleted,
  // another organization's or mode's) is checked against a key nobody holds, so it costs the same
  // work and ends in the same error as a known id whose signature does not verify. Whatever the
  // answers below tell about this passkey (deactivated, whose it is, which sign-in it was offered
  // for) is told only to whoever holds its private key, not to anyone who knows a credential id
  // and the publishable key.
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      // The counter rule is applied below, where a violation can be recorded.
      credential: row
        ? { id: row.webauthnId, publicKey: new Uint8Array(row.publicKey), counter: 0, transports: knownTransports(row.transports) }
        : { id: response.id, publicKey: new Uint8Array(UNKNOWN_CREDENTIAL_PUBLIC_KEY), counter: 0 },
      requireUserVerification: false,
    });
  } catch (err) {
    // Origin, rpId, type, challenge, flags: checked before the key is used, so the same for any id.
    throw Errors.malformed(`The authentication response did not verify: ${publicVerifyMessage(err)}`);
  }
  if (!row || !verified.verified) throw Errors.userNotFound();
  const info = verified.authenticationInfo;

  if (!row.isActive) throw Errors.deactivatedCredential();
  if (record.allow.length > 0 && !record.allow.includes(row.webauthnId))
    throw Errors.permission("This passkey was not among those allowed for this sign-in.");
  const usernameHash = row.account.usernameHash;
  const named = record.user;
  if (named && ((named.id !== null && named.id !== row.userId) || (named.handleHash !== null && named.handleHash !== usernameHash)))
    throw Errors.permission("This passkey does not belong to the user this sign-in was started for.");
  if (input.user?.id && input.user.id !== row.userId) throw Errors.permission("This passkey does not belong to the given user.");
  if (expectedHandle && deps.usernames.hash(scope, expectedHandle) !== usernameHash)
    throw Errors.permission("This passkey does not belong to the given user.");
  if ((rp.requireUserVerification || record.requireUv) && !info.userVerified) throw Errors.userVerificationRequired();

  const stored = row.signCount;
  const received = BigInt(info.newCounter);
  if ((received > 0n || stored > 0n) && received <= stored) {
    await deps.prisma.counterAnomaly.create({
      data: {
        id: `cnt_${ulid()}`,
        credentialId: row.id,
        organizationId: row.organizationId,
        mode: row.mode,
        storedCount: stored,
        receivedCount: received,
      },
    });
    passkeyCounterAnomalyMetric(deps.metrics.registry).inc();
    deps.logger.warn({ credentialId: row.id, stored: String(stored), received: String(received) }, "signature counter went backwards");
    throw Errors.permission("The authenticator's signature counter went backwards; it may be cloned. Sign-in refused.");
  }

  const event = newEvent(
    EventType.passkeyAuthenticated,
    { organizationId: scope.organizationId, mode: scope.mode },
    {
      credentialId: row.id,
      user: { id: row.userId },
      userVerified: info.userVerified,
      backedUp: info.credentialBackedUp,
    },
  );
  // Compare-and-set on the counter: of two concurrent assertions with the same counter, one wins;
  // the loser's transaction rolls back, so no event announces a sign-in that did not happen.
  await deps.prisma.$transaction(async (tx) => {
    const updated = await tx.credential.updateMany({
      where: { id: row.id, signCount: stored, isActive: true },
      data: { signCount: received, isBackedUp: info.credentialBackedUp, lastUsedAt: new Date() },
    });
    if (updated.count !== 1) throw Errors.permission("This passkey was used concurrently or deactivated; try again.");
    await tx.outboxEvent.create({ data: outboxData(event) });
    // The Admin API's sign-ins per UTC day, counted with the sign-in itself.
    await tx.$executeRaw`
      INSERT INTO passkey_daily_stats (organization_id, mode, day, verifications)
      VALUES (${scope.organizationId}, ${scope.mode}, (now() AT TIME ZONE 'UTC')::date, 1)
      ON CONFLICT (organization_id, mode, day) DO UPDATE SET verifications = passkey_daily_stats.verifications + 1`;
  });
  deps.relay.kick();
  return deps.tokens.issue("authentication", {
    organizationId: scope.organizationId,
    mode: scope.mode,
    credentialId: row.id,
    userId: row.userId,
    credential: { id: row.id, name: row.name, isBackedUp: info.credentialBackedUp },
    userVerified: info.userVerified,
  });
}
