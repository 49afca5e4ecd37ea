import { type AttachRegistrationRequest, EventType, type PasskeyCredential, userHandleOf } from "@authplane/contracts";
import type { Scope } from "../auth.js";
import { authenticatorName } from "../aaguids.js";
import type { Ctx } from "../context.js";
import { credentialEvent, outboxData, toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";
import { Prisma } from "../generated/prisma/client.js";
import { newCredentialId } from "../ids.js";

/**
 * Spends an rtn_ token and stores its credential for the given user (seed: attach / create).
 * A token of another organization or mode is refused without being spent.
 */
export async function attachRegistration(ctx: Ctx, scope: Scope, input: AttachRegistrationRequest): Promise<PasskeyCredential> {
  let handle: string | null;
  try {
    handle = userHandleOf(input.user);
  } catch (err) {
    throw Errors.invalidInput((err as Error).message);
  }
  if (!input.token.startsWith("rtn_")) throw Errors.invalidInput("token must be a registration token (rtn_…).");
  const taken = await ctx.tokens.take("registration", input.token, scope);
  if (!taken.ok) {
    if (taken.reason === "other_scope")
      throw Errors.permission("This registration token belongs to another organization or mode (live/test).");
    if (taken.reason === "not_found") throw Errors.tokenNotFound("registration token");
    throw Errors.tokenExpired("registration token", taken.reason);
  }
  const p = taken.value;
  const id = newCredentialId();
  try {
    const row = await ctx.prisma.$transaction(async (tx) => {
      const created = await tx.credential.create({
        data: {
          id,
          organizationId: p.organizationId,
          mode: p.mode,
          webauthnId: p.webauthnId,
          publicKey: new Uint8Array(Buffer.from(p.publicKey, "base64url")),
          signCount: BigInt(p.counter),
          aaguid: p.aaguid,
          name: authenticatorName(p.aaguid),
          isBackupEligible: p.isBackupEligible,
          isBackedUp: p.isBackedUp,
          isUvInitialized: p.isUvInitialized,
          transports: p.transports,
          userId: input.user.id,
          userHandle: handle,
        },
      });
      await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialCreated, created)) });
      return created;
    });
    ctx.outbox.kick();
    return toCredentialObject(row);
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")
      throw Errors.conflict("This passkey is already attached.");
    throw err;
  }
}
