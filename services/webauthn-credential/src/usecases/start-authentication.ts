import { type AssertionOptionsRequest, userHandleOf } from "@authplane/contracts";
import {
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { RelyingParty, Scope } from "../auth.js";
import type { Ctx } from "../context.js";
import { Errors } from "../errors.js";

export interface AuthenticationOptionsResult {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
  mediation?: "conditional";
}

/**
 * Request options. With a user (`{user:{username}}` / `{user:{id}}`), allowCredentials lists that
 * user's active passkeys; without one (autofill), allowCredentials is empty and mediation is
 * "conditional" so the browser offers discoverable passkeys. A user with no passkeys gets the
 * same shape as autofill-less discoverable sign-in (empty allowCredentials) rather than an
 * error, so the publishable key cannot be used to probe which usernames exist.
 */
export async function startAuthentication(
  ctx: Ctx,
  scope: Scope,
  rp: RelyingParty,
  input: AssertionOptionsRequest,
): Promise<AuthenticationOptionsResult> {
  let handle: string | null;
  try {
    handle = userHandleOf(input.user);
  } catch (err) {
    throw Errors.invalidInput((err as Error).message);
  }
  const userId = input.user?.id;
  if (userId && handle) throw Errors.invalidInput("Send either user.id or user.username (handle), not both.");
  const named = Boolean(userId || handle);
  const credentials = named
    ? await ctx.prisma.credential.findMany({
        where: {
          organizationId: scope.organizationId,
          mode: scope.mode,
          isActive: true,
          ...(userId ? { userId } : { userHandle: handle }),
        },
        select: { webauthnId: true, transports: true },
        orderBy: { createdAt: "asc" },
        take: 100,
      })
    : [];
  const allow = credentials.map((c) => c.webauthnId);
  const user = named ? { id: userId ?? null, handle: userId ? null : handle } : null;
  const challenge = await ctx.challenges.issue(scope, "authentication", { rpId: rp.rpId, allow, user });
  const publicKey = await generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge,
    timeout: ctx.env.CHALLENGE_TTL_SECONDS * 1000,
    userVerification: "preferred",
    allowCredentials: credentials.map((c) => ({ id: c.webauthnId, transports: c.transports as AuthenticatorTransportFuture[] })),
  });
  return named ? { publicKey } : { publicKey, mediation: "conditional" };
}
