import type { FindCredentialsRequest, PasskeyCredential } from "@authplane/contracts";
import type { ServerCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";
import { usernameOf } from "../usernames.js";

/**
 * Credentials of one user (by id or by handle, exactly one of them; seed: both is an error). A
 * handle matches case-insensitively, through its hash (usernames are not stored in clear).
 */
export async function findCredentials(deps: AppDeps, input: ServerCaller & FindCredentialsRequest): Promise<{ data: PasskeyCredential[] }> {
  const { scope } = input;
  const handle = usernameOf(input.user);
  const id = input.user.id;
  if (id && handle) throw Errors.invalidInput("Send either user.id or user.handle, not both.");
  if (!id && !handle) throw Errors.invalidInput("user.id or user.handle is required.");
  const rows = await deps.prisma.credential.findMany({
    where: {
      organizationId: scope.organizationId,
      mode: scope.mode,
      ...(id ? { userId: id } : { account: { usernameHash: deps.usernames.hash(scope, handle as string) } }),
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 500,
  });
  return { data: rows.map(toCredentialObject) };
}
