import { type FindCredentialsRequest, type PasskeyCredential, userHandleOf } from "@authplane/contracts";
import type { Scope } from "../auth.js";
import type { Ctx } from "../context.js";
import { toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";

/** Credentials of one user (by id or by handle, exactly one of them; seed: both is an error). */
export async function findCredentials(ctx: Ctx, scope: Scope, input: FindCredentialsRequest): Promise<{ data: PasskeyCredential[] }> {
  let handle: string | null;
  try {
    handle = userHandleOf(input.user);
  } catch (err) {
    throw Errors.invalidInput((err as Error).message);
  }
  const id = input.user.id;
  if (id && handle) throw Errors.invalidInput("Send either user.id or user.handle, not both.");
  if (!id && !handle) throw Errors.invalidInput("user.id or user.handle is required.");
  const rows = await ctx.prisma.credential.findMany({
    where: { organizationId: scope.organizationId, mode: scope.mode, ...(id ? { userId: id } : { userHandle: handle }) },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 500,
  });
  return { data: rows.map(toCredentialObject) };
}
