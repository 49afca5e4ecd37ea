import type { VerifyAuthTokenRequest, VerifyAuthTokenResult } from "@authplane/contracts";
import type { ServerCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";

/**
 * Spends an atn_ token: who signed in (the user id given at attach; never the username, which is
 * kept only as a hash), the credential used and whether the user was verified.
 */
export async function verifyAuthToken(deps: AppDeps, input: ServerCaller & VerifyAuthTokenRequest): Promise<VerifyAuthTokenResult> {
  const { scope } = input;
  if (!input.token.startsWith("atn_")) throw Errors.invalidInput("token must be an authentication token (atn_…).");
  const taken = await deps.tokens.take("authentication", input.token, scope);
  if (!taken.ok) {
    if (taken.reason === "other_scope")
      throw Errors.permission("This authentication token belongs to another organization or mode (live/test).");
    if (taken.reason === "not_found") throw Errors.tokenNotFound("authentication token");
    throw Errors.tokenExpired("authentication token", taken.reason);
  }
  const { userId, credential, userVerified } = taken.value;
  return {
    user: { id: userId },
    ...(credential ? { credential } : {}),
    ...(userVerified !== undefined ? { userVerified } : {}),
  };
}
