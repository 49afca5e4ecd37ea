import { randomBytes } from "node:crypto";
import type { AttestationOptionsRequest } from "@authplane/contracts";
import {
  type AuthenticatorTransportFuture,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
} from "@simplewebauthn/server";
import type { RelyingParty, Scope } from "../auth.js";
import type { Ctx } from "../context.js";
import { usernameOf } from "../usernames.js";

export interface RegistrationOptionsResult {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
  mediation?: "conditional";
}

/**
 * Creation options for a new passkey. The WebAuthn user.id is random per registration: the
 * credential is tied to your user only when your backend attaches the rtn_ token. When the SDK
 * names an existing user, that user's passkeys are excluded so the same authenticator is not
 * registered twice (a handle matches case-insensitively, through its hash). `upgrade: true` asks
 * for conditional create (upgrade a password sign-in). With the organization's
 * `requireUserVerification`, the authenticator is asked to verify the user ("required").
 */
export async function startRegistration(
  ctx: Ctx,
  scope: Scope,
  rp: RelyingParty,
  input: AttestationOptionsRequest,
): Promise<RegistrationOptionsResult> {
  const handle = usernameOf(input.user);
  const userName = input.user?.name ?? handle ?? input.user?.id ?? "Passkey";
  const existing =
    input.user?.id || handle
      ? await ctx.prisma.credential.findMany({
          where: {
            organizationId: scope.organizationId,
            mode: scope.mode,
            ...(input.user?.id ? { userId: input.user.id } : { account: { usernameHash: ctx.usernames.hash(scope, handle as string) } }),
          },
          select: { webauthnId: true, transports: true },
          take: 100,
        })
      : [];
  const challenge = await ctx.challenges.issue(scope, "registration", {
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
    timeout: ctx.env.CHALLENGE_TTL_SECONDS * 1000,
    attestationType: "none",
    excludeCredentials: existing.map((c) => ({ id: c.webauthnId, transports: c.transports as AuthenticatorTransportFuture[] })),
    authenticatorSelection: { residentKey: "preferred", userVerification: rp.requireUserVerification ? "required" : "preferred" },
  });
  return input.upgrade ? { publicKey, mediation: "conditional" } : { publicKey };
}
