import type { VerifyAuthTokenRequest } from "@authplane/contracts";
import type { Scope } from "../auth.js";
import type { Ctx } from "../context.js";
import { Errors } from "../errors.js";

/** Spends an atn_ token: who signed in (the user id given at attach, and its handle if any). */
export async function verifyAuthToken(
  ctx: Ctx,
  scope: Scope,
  input: VerifyAuthTokenRequest,
): Promise<{ user: { id: string; handle?: string } }> {
  if (!input.token.startsWith("atn_")) throw Errors.invalidInput("token must be an authentication token (atn_…).");
  const taken = await ctx.tokens.take("authentication", input.token, scope);
  if (!taken.ok) {
    if (taken.reason === "other_scope")
      throw Errors.permission("This authentication token belongs to another organization or mode (live/test).");
    if (taken.reason === "not_found") throw Errors.tokenNotFound("authentication token");
    throw Errors.tokenExpired("authentication token", taken.reason);
  }
  const { userId, userHandle } = taken.value;
  return { user: userHandle ? { id: userId, handle: userHandle } : { id: userId } };
}
