import type { AssertionOptionsRequest } from "@authplane/contracts";
import { generateAuthenticationOptions, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { ClientCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { decoyCredentials, offered } from "../decoys.js";
import { Errors } from "../errors.js";
import { foldUsername, usernameOf } from "../usernames.js";

export interface AuthenticationOptionsResult {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
  mediation?: "conditional";
}

/**
 * Request options. With a user (`{user:{username}}` / `{user:{id}}`), allowCredentials lists that
 * user's active passkeys; without one (autofill), allowCredentials is empty and mediation is
 * "conditional" so the browser offers discoverable passkeys. A named user with no active passkey
 * (unknown, never enrolled, or all deactivated) gets decoy credentials (decoys.ts: count, id
 * lengths and transports like real passkeys', stable per name) instead of an error or an empty
 * list, so the publishable key cannot be used to probe which users have passkeys; the ceremony
 * can only end in PermissionViolation, as for any passkey the options did not allow. Real
 * passkeys' transports are given in browser order (sorted), like the decoys'.
 * Usernames match case-insensitively, through their hash (usernames.ts).
 */
export async function startAuthentication(
  deps: AppDeps,
  input: ClientCaller & AssertionOptionsRequest,
): Promise<AuthenticationOptionsResult> {
  const { scope, rp } = input;
  const handle = usernameOf(input.user);
  const userId = input.user?.id;
  if (userId && handle) throw Errors.invalidInput("Send either user.id or user.username (handle), not both.");
  const named = Boolean(userId || handle);
  const handleHash = !userId && handle ? deps.usernames.hash(scope, handle) : null;
  const credentials = named
    ? await deps.prisma.credential.findMany({
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
  // The decoy is derived for every named request, used or not, so both cases do the same work.
  // Keyed on the folded name, like the lookup: "Nobody" and "nobody" get the same decoy, as a
  // real user's options are the same whatever the case typed.
  const asked = userId ? `id:${userId}` : handle ? `handle:${foldUsername(handle)}` : null;
  const decoys = asked ? decoyCredentials(deps.env.DECOY_CREDENTIAL_SECRET, scope, "assertion", asked) : [];
  const allowCredentials = named && credentials.length === 0 ? decoys : credentials.map(offered);
  const allow = allowCredentials.map((c) => c.id);
  const user = named ? { id: userId ?? null, handleHash } : null;
  const requireUv = rp.requireUserVerification;
  const challenge = await deps.challenges.issue(scope, "authentication", { rpId: rp.rpId, allow, user, requireUv });
  const publicKey = await generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge,
    timeout: deps.env.CHALLENGE_TTL_SECONDS * 1000,
    userVerification: requireUv ? "required" : "preferred",
    allowCredentials,
  });
  return named ? { publicKey } : { publicKey, mediation: "conditional" };
}
