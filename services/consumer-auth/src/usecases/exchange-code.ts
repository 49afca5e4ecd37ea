import type { SessionResponse, VerifiedKey } from "@authplane/contracts";
import { isUniqueViolation, ulid } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog } from "../errors.js";
import type { Prisma } from "../generated/prisma/client.js";
import { EXCHANGE_CODE_PATTERN, ExchangeCodeData, exchangeCodeKey } from "./authorize-external.js";
import { issueSession, newConsumerId } from "./issue-session.js";
import { type RevokedSession, rewriteRevokedMarkers } from "./revoke-session.js";
import { upgradeGuest } from "./upgrade-guest.js";
import { sameScope } from "../scope.js";
import { verifySessionToken } from "./verify-access-token.js";

/**
 * POST /external/exchange. The code is consumed with one GETDEL on a key scoped by the caller's
 * organization and mode: of N concurrent attempts exactly one gets the value; a code of another
 * org/mode is simply not found (and is not burnt). With a guest access token (`accessToken`) of the
 * same org+mode and a code whose identity is new, that guest is upgraded in place.
 */
export async function exchangeCode(
  deps: AppDeps,
  input: {
    key: VerifiedKey;
    exchangeCode: string;
    /** The caller's access token, if any: a guest of the same organization and mode is upgraded in place. */
    accessToken?: string | null;
    ip?: string;
    userAgent?: string;
  },
): Promise<SessionResponse> {
  const { key } = input;
  // The guest token is checked BEFORE the code is consumed, so a bad token does not burn it.
  let guest = null;
  if (input.accessToken) {
    // An expired token still identifies its (live) guest session: see verifySessionToken.
    guest = await verifySessionToken(deps, input.accessToken, key.settings);
    if (!guest) throw appError(ErrorCatalog.invalidAccessToken);
    if (!sameScope(key, guest)) throw appError(ErrorCatalog.keyMismatch);
  }
  if (!EXCHANGE_CODE_PATTERN.test(input.exchangeCode)) throw appError(ErrorCatalog.invalidExchangeCode);
  const raw = await deps.redis.getdel(exchangeCodeKey(key.organizationId, key.mode, input.exchangeCode));
  if (!raw) throw appError(ErrorCatalog.invalidExchangeCode);
  const data = ExchangeCodeData.parse(JSON.parse(raw));
  const scope = { organizationId: key.organizationId, mode: key.mode };
  const common = {
    organizationId: key.organizationId,
    mode: key.mode,
    sessionType: "external" as const,
    method: "external" as const,
    settings: key.settings,
    ip: input.ip,
    userAgent: input.userAgent,
  };

  if (data.consumerId) {
    const consumer = await deps.prisma.consumer.findFirst({ where: { id: data.consumerId } });
    if (!consumer) throw appError(ErrorCatalog.invalidExchangeCode);
    return issueSession(deps, {
      ...common,
      consumer: { id: consumer.id, kind: "registered", email: consumer.email, phone: consumer.phone },
    });
  }

  // Resolution "created": create the consumer now, or upgrade the caller's guest in place.
  const identityWhere = {
    organizationId: key.organizationId,
    mode: key.mode,
    provider: data.provider,
    issuer: data.issuer,
    subject: data.subject,
  };
  for (let attempt = 0; ; attempt++) {
    let revoked: RevokedSession[] = [];
    try {
      const result = await deps.prisma.$transaction(async (tx) => {
        const existing = await tx.externalIdentity.findFirst({ where: identityWhere });
        if (existing) {
          // Another code for the same identity was exchanged first: it now exists.
          const c = await tx.consumer.findFirstOrThrow({ where: { id: existing.consumerId } });
          return issueSession(deps, { ...common, tx, consumer: { id: c.id, kind: "registered", email: c.email, phone: c.phone } });
        }
        const email = data.verifiedEmail
          ? (await tx.consumer.findFirst({
              where: { organizationId: key.organizationId, mode: key.mode, email: data.verifiedEmail },
            }))
            ? null // that email belongs to another consumer: do not take it
            : data.verifiedEmail
          : null;
        const now = new Date();
        const link = (db: Prisma.TransactionClient, consumerId: string) =>
          db.externalIdentity.create({
            data: { id: `eid_${ulid()}`, ...identityWhere, consumerId, claims: data.claims as Prisma.InputJsonObject },
          });
        // The caller's guest, upgraded in place (one conditional UPDATE, shared with OTP verify);
        // null when it is no longer a guest of this scope: a new consumer is created instead.
        const upgrade = guest
          ? await upgradeGuest(deps, tx, {
              guestId: guest.consumerId,
              scope,
              via: "external",
              identity: email ? { email, emailVerifiedAt: now } : {},
              now,
              attach: async (db, consumerId) => {
                await link(db, consumerId);
              },
            })
          : null;
        if (upgrade) {
          revoked = upgrade.revoked;
          return issueSession(deps, { ...common, tx, consumer: upgrade.consumer, extraEvents: [upgrade.event] });
        }
        const id = newConsumerId("registered");
        const session = await issueSession(deps, {
          ...common,
          tx,
          consumer: { id, kind: "registered", email, emailVerifiedAt: email ? now : null, create: true },
        });
        await link(tx, id);
        return session;
      });
      deps.relay.kick();
      await rewriteRevokedMarkers(deps, revoked);
      return result;
    } catch (err) {
      // Two exchanges creating the same identity (or email) at once: retry once, it then exists.
      if (!isUniqueViolation(err) || attempt >= 1) throw err;
    }
  }
}
