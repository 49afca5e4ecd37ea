import type { AdminPasskeyCredentialList } from "@authplane/contracts";
import type { AdminCaller } from "../scope.js";
import type { AppDeps } from "../deps.js";
import { toAdminCredential } from "../credentials.js";

export interface ListCredentialsInput extends AdminCaller {
  userId?: string | undefined;
  active?: boolean | undefined;
  limit: number;
  /** The id of the last credential of the previous page (decoded from its opaque cursor). */
  after?: string | undefined;
}

/**
 * Admin API: the passkeys of the caller's organization and mode, newest first (by id: a ULID, so
 * creation order), optionally of one user and/or only active or deactivated ones. Keyset pages:
 * one row more than asked tells whether there is a next page.
 */
export async function listCredentials(deps: AppDeps, input: ListCredentialsInput): Promise<AdminPasskeyCredentialList> {
  const { scope } = input;
  const rows = await deps.prisma.credential.findMany({
    where: {
      organizationId: scope.organizationId,
      mode: scope.mode,
      ...(input.userId !== undefined ? { userId: input.userId } : {}),
      ...(input.active !== undefined ? { isActive: input.active } : {}),
      ...(input.after !== undefined ? { id: { lt: input.after } } : {}),
    },
    orderBy: { id: "desc" },
    take: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return { data: page.map(toAdminCredential), nextCursor: rows.length > input.limit && last ? encodeCursor(last.id) : null };
}

/** The opaque cursor of a page that ends with this credential id. */
function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

/** The credential id inside a cursor this API gave out, or null when it is not one. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  return /^ctl_[0-9A-HJKMNP-TV-Z]{26}$/.test(id) ? id : null;
}
