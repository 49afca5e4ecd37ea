import { createHmac } from "node:crypto";
import type { AssertionOptionsRequest } from "@authplane/contracts";
import {
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { RelyingParty, Scope } from "../auth.js";
import type { Ctx } from "../context.js";
import { Errors } from "../errors.js";
import { foldUsername, usernameOf } from "../usernames.js";

export interface AuthenticationOptionsResult {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
  mediation?: "conditional";
}

/** Bytes of a decoy credential id (a common length for platform and roaming authenticators). */
const DECOY_ID_BYTES = 32;

/**
 * The credential offered for a named user without active passkeys: an id derived by HMAC from
 * the organization, mode and the name asked for, so it is the same on every call (like a real
 * passkey's) and differs per user, and it matches no authenticator.
 */
export function decoyCredentialId(secret: string, scope: Pick<Scope, "organizationId" | "mode">, user: string): string {
  return createHmac("sha256", secret)
    .update(`${scope.organizationId}|${scope.mode}|${user}`)
    .digest()
    .subarray(0, DECOY_ID_BYTES)
    .toString("base64url");
}

/**
 * Request options. With a user (`{user:{username}}` / `{user:{id}}`), allowCredentials lists that
 * user's active passkeys; without one (autofill), allowCredentials is empty and mediation is
 * "conditional" so the browser offers discoverable passkeys. A named user with no active passkey
 * (unknown, never enrolled, or all deactivated) gets one decoy credential instead of an error or
 * an empty list, so the publishable key cannot be used to probe which users have passkeys; the
 * ceremony can only end in PermissionViolation, as for any passkey the options did not allow.
 * Usernames match case-insensitively, through their hash (usernames.ts).
 */
export async function startAuthentication(
  ctx: Ctx,
  scope: Scope,
  rp: RelyingParty,
  input: AssertionOptionsRequest,
): Promise<AuthenticationOptionsResult> {
  const handle = usernameOf(input.user);
  const userId = input.user?.id;
  if (userId && handle) throw Errors.invalidInput("Send either user.id or user.username (handle), not both.");
  const named = Boolean(userId || handle);
  const handleHash = !userId && handle ? ctx.usernames.hash(scope, handle) : null;
  const credentials = named
    ? await ctx.prisma.credential.findMany({
        where: {
          organizationId: scope.organizationId,
          mode: scope.mode,
          isActive: true,
          ...(userId ? { userId } : { account: { usernameHash: handleHash } }),
        },
        select: { webauthnId: true, transports: true },
        orderBy: { createdAt: "asc" },
        take: 100,
      })
    : [];
  const allowCredentials = credentials.map((c) => ({ id: c.webauthnId, transports: c.transports as AuthenticatorTransportFuture[] }));
  if (named && allowCredentials.length === 0) {
    // Keyed on the folded name, like the lookup: "Nobody" and "nobody" get the same decoy, as a
    // real user's options are the same whatever the case typed.
    const asked = userId ? `id:${userId}` : `handle:${foldUsername(handle as string)}`;
    allowCredentials.push({ id: decoyCredentialId(ctx.env.DECOY_CREDENTIAL_SECRET, scope, asked), transports: ["internal", "hybrid"] });
  }
  const allow = allowCredentials.map((c) => c.id);
  const user = named ? { id: userId ?? null, handleHash } : null;
  const requireUv = rp.requireUserVerification;
  const challenge = await ctx.challenges.issue(scope, "authentication", { rpId: rp.rpId, allow, user, requireUv });
  const publicKey = await generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge,
    timeout: ctx.env.CHALLENGE_TTL_SECONDS * 1000,
    userVerification: requireUv ? "required" : "preferred",
    allowCredentials,
  });
  return named ? { publicKey } : { publicKey, mediation: "conditional" };
}
