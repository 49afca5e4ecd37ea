import { type AttachRegistrationRequest, EventType, type PasskeyCredential } from "@authplane/contracts";
import { isUniqueViolation } from "@authplane/service-kit";
import type { ServerCaller } from "../scope.js";
import { authenticatorName } from "../aaguids.js";
import type { AppDeps } from "../deps.js";
import { credentialEvent, outboxData, toCredentialObject } from "../credentials.js";
import { Errors } from "../errors.js";
import { newCredentialId } from "../ids.js";
import type { PendingRegistration } from "../one-time-tokens.js";
import { usernameOf } from "../usernames.js";

type Db = Pick<AppDeps["prisma"], "userAccount">;
type AccountKey = { organizationId: string; mode: string; userId: string };

/**
 * The username rules of attach: a username names one user (UsernameInUseByDifferentAccount
 * otherwise) and a user keeps its username (UsernameCannotChange). A user without a username may
 * be given one; attaching without a username leaves the user's username as it is.
 */
async function assertUsernameFits(db: Db, account: AccountKey, usernameHash: string | null): Promise<"create" | "set" | "keep"> {
  const existing = await db.userAccount.findFirst({ where: account, select: { usernameHash: true } });
  if (existing?.usernameHash && usernameHash && existing.usernameHash !== usernameHash) throw Errors.usernameCannotChange();
  if (usernameHash && existing?.usernameHash !== usernameHash) {
    const owner = await db.userAccount.findFirst({
      where: { organizationId: account.organizationId, mode: account.mode, usernameHash },
      select: { userId: true },
    });
    if (owner && owner.userId !== account.userId) throw Errors.usernameInUse();
  }
  if (!existing) return "create";
  return usernameHash && !existing.usernameHash ? "set" : "keep";
}

/**
 * Spends an rtn_ token and stores its credential for the given user (seed: attach / create).
 * A token of another organization or mode is refused without being spent, and so is an attach
 * that breaks the username rules (checked before the token is taken). The database has the last
 * word (unique user per username, unique passkey): a racing attach that loses gets the same
 * answer as if it had come second, with its token spent.
 */
export async function attachRegistration(deps: AppDeps, input: ServerCaller & AttachRegistrationRequest): Promise<PasskeyCredential> {
  const { scope } = input;
  const username = usernameOf(input.user);
  if (!input.token.startsWith("rtn_")) throw Errors.invalidInput("token must be a registration token (rtn_…).");
  const account: AccountKey = { organizationId: scope.organizationId, mode: scope.mode, userId: input.user.id };
  const usernameHash = username ? deps.usernames.hash(scope, username) : null;
  await assertUsernameFits(deps.prisma, account, usernameHash);

  const taken = await deps.tokens.take("registration", input.token, scope);
  if (!taken.ok) {
    if (taken.reason === "other_scope")
      throw Errors.permission("This registration token belongs to another organization or mode (live/test).");
    if (taken.reason === "not_found") throw Errors.tokenNotFound("registration token");
    throw Errors.tokenExpired("registration token", taken.reason);
  }
  // Two tries: a unique violation that the rules do not explain (two first passkeys of one new
  // user attached at once) is resolved by doing it again, now that the account exists.
  for (let attempt = 1; ; attempt++) {
    try {
      const row = await store(deps, account, usernameHash, taken.value);
      deps.relay.kick();
      return toCredentialObject(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await assertUsernameFits(deps.prisma, account, usernameHash);
      const dup = await deps.prisma.credential.findFirst({
        where: { organizationId: scope.organizationId, mode: scope.mode, webauthnId: taken.value.webauthnId },
        select: { id: true },
      });
      if (dup || attempt >= 2) throw Errors.conflict("This passkey is already attached.");
    }
  }
}

async function store(deps: AppDeps, account: AccountKey, usernameHash: string | null, p: PendingRegistration) {
  return deps.prisma.$transaction(async (tx) => {
    const step = await assertUsernameFits(tx, account, usernameHash);
    if (step === "create") await tx.userAccount.create({ data: { ...account, usernameHash } });
    else if (step === "set") {
      // Compare-and-set: of two attaches giving one user different first usernames, one wins;
      // the other waits on the row, finds it set and gets UsernameCannotChange.
      const set = await tx.userAccount.updateMany({ where: { ...account, usernameHash: null }, data: { usernameHash } });
      if (set.count !== 1) {
        const now = await tx.userAccount.findFirst({ where: account, select: { usernameHash: true } });
        if (now?.usernameHash !== usernameHash) throw Errors.usernameCannotChange();
      }
    }
    const created = await tx.credential.create({
      data: {
        id: newCredentialId(),
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
        userId: account.userId,
      },
    });
    await tx.outboxEvent.create({ data: outboxData(credentialEvent(EventType.credentialCreated, created)) });
    return created;
  });
}
