import type { Mode, SessionResponse, VerifiedKey } from "@authplane/contracts";
import { isUniqueViolation } from "@authplane/service-kit";
import type { AppDeps } from "../deps.js";
import { appError, ErrorCatalog, OtpErrors, otpError } from "../errors.js";
import type { Consumer } from "../generated/prisma/client.js";
import type { OtpScope } from "../otp/code-store.js";
import { normalizeIdentity, type OtpIdentity, type OtpVerifyBody } from "../otp/normalize-identity.js";
import { sameScope } from "../scope.js";
import { issueSession, newConsumerId } from "./issue-session.js";
import { type RevokedSession, rewriteRevokedMarkers } from "./revoke-session.js";
import { upgradeGuest } from "./upgrade-guest.js";
import { verifySessionToken } from "./verify-access-token.js";

export interface VerifyOtpInput {
  key: VerifiedKey;
  body: OtpVerifyBody;
  ip: string;
  userAgent?: string;
  /** Bearer access token of the caller, if any: a guest of the same organization and mode is upgraded in place. */
  accessToken?: string | null;
}

type Deps = Pick<AppDeps, "prisma" | "tokens" | "relay" | "redis" | "revocations" | "otp">;

/**
 * Checks and consumes the code (one atomic Redis step), then signs in the consumer owning the
 * verified email/phone in this organization and mode, creating it on first sign-in, or upgrades
 * the calling guest in place (a registered caller's token just signs in as the identity's owner).
 * If the email/phone already belongs to another consumer, the caller
 * signs in as that consumer and the guest is left as it was (an identity has one owner; merging
 * two consumers' histories is not done implicitly).
 */
export async function verifyOtp(deps: Deps, input: VerifyOtpInput): Promise<SessionResponse> {
  const { otp } = deps;
  await otp.limits.consumeVerifyByIp(input.ip);
  const identity = normalizeIdentity(input.body);
  const scope: OtpScope = { organizationId: input.key.organizationId, mode: input.key.mode };

  // The access token is checked BEFORE the code is consumed (as /external/exchange does), so a bad
  // or foreign token is refused without burning the code.
  let guestId: string | null = null;
  if (input.accessToken) {
    // An expired token still identifies its (live) guest session: see verifySessionToken.
    const claims = await verifySessionToken(deps, input.accessToken, input.key.settings);
    if (!claims) throw appError(ErrorCatalog.invalidAccessToken);
    if (!sameScope(input.key, claims)) throw appError(ErrorCatalog.keyMismatch);
    guestId = claims.consumerId;
  }

  // Budgets per (identity, client IP group) with growing delays, under an identity-wide ceiling:
  // a guesser elsewhere can neither lock the owner out nor kill the owner's code.
  const refund = await otp.limits.beginGuess(scope, identity, input.ip);
  const outcome = await otp.codes.verify(scope, identity, input.body.code, otp.limits.clientOf(input.ip)).catch(async (err: unknown) => {
    await refund();
    throw err;
  });
  if (outcome === "invalid" || outcome === "killed") {
    // A real wrong guess: it keeps its point of the ceiling and counts for this client.
    await otp.limits.recordFailure(scope, identity, input.ip);
    throw otpError(outcome === "invalid" ? OtpErrors.invalid : OtpErrors.attemptsExceeded);
  }
  // Nothing was guessed (no code, or dead for this client) or the code was right.
  await refund();
  if (outcome === "expired") throw otpError(OtpErrors.expired);
  if (outcome === "exhausted") throw otpError(OtpErrors.attemptsExceeded);

  await otp.limits.clearFailures(scope, identity, input.ip);
  const session = await signIn(deps, input, scope, identity, guestId);
  otp.logger.info(
    { consumerId: session.session.consumerId, channel: identity.channel, upgradedGuest: guestId === session.session.consumerId },
    "otp verified",
  );
  return session;
}

async function signIn(deps: Deps, input: VerifyOtpInput, scope: OtpScope, identity: OtpIdentity, guestId: string | null) {
  const now = new Date();
  const base = {
    organizationId: scope.organizationId,
    mode: scope.mode,
    sessionType: "otp" as const,
    method: identity.kind === "email" ? ("email_otp" as const) : ("phone_otp" as const),
    settings: input.key.settings,
    ip: input.ip,
    userAgent: input.userAgent,
  };

  const existing = await findByIdentity(deps, scope, identity);
  if (existing) return signInExisting(deps, base, existing, identity, now);

  if (guestId) {
    const upgraded = await upgradeGuestWithOtp(deps, base, scope, identity, guestId, now);
    if (upgraded) return upgraded;
  }

  try {
    return await issueSession(deps, {
      ...base,
      consumer: {
        id: newConsumerId("registered"),
        kind: "registered",
        create: true,
        ...(identity.kind === "email" ? { email: identity.value, emailVerifiedAt: now } : { phone: identity.value, phoneVerifiedAt: now }),
      },
    });
  } catch (err) {
    // Another request (an external-auth sign-in, another pod) created this identity meanwhile.
    if (!isUniqueViolation(err)) throw err;
    const winner = await findByIdentity(deps, scope, identity);
    if (!winner) throw err;
    return signInExisting(deps, base, winner, identity, now);
  }
}

type SessionBase = Omit<Parameters<typeof issueSession>[1], "consumer">;

async function signInExisting(deps: Deps, base: SessionBase, consumer: Consumer, identity: OtpIdentity, now: Date) {
  const field = identity.kind === "email" ? "emailVerifiedAt" : "phoneVerifiedAt";
  if (!consumer[field]) {
    await deps.prisma.consumer.updateMany({ where: { id: consumer.id, [field]: null }, data: { [field]: now } });
  }
  return issueSession(deps, {
    ...base,
    consumer: { id: consumer.id, kind: consumer.kind === "guest" ? "guest" : "registered", email: consumer.email, phone: consumer.phone },
  });
}

/**
 * Upgrades the calling guest in place to the verified email/phone (the shared `upgradeGuest`),
 * with the session and `consumers.v1.upgraded` in the same transaction. Null when the caller is
 * no longer a guest of this scope (another upgrade won), or when the identity was taken
 * concurrently (the caller then signs in as its owner).
 */
async function upgradeGuestWithOtp(
  deps: Deps,
  base: SessionBase,
  scope: { organizationId: string; mode: Mode },
  identity: OtpIdentity,
  guestId: string,
  now: Date,
): Promise<SessionResponse | null> {
  let revoked: RevokedSession[] = [];
  try {
    const session = await deps.prisma.$transaction(async (tx) => {
      const upgrade = await upgradeGuest(deps, tx, {
        guestId,
        scope,
        via: "otp",
        identity:
          identity.kind === "email" ? { email: identity.value, emailVerifiedAt: now } : { phone: identity.value, phoneVerifiedAt: now },
        now,
      });
      if (!upgrade) return null;
      revoked = upgrade.revoked;
      return issueSession(deps, { ...base, tx, consumer: upgrade.consumer, extraEvents: [upgrade.event] });
    });
    if (session) {
      deps.relay.kick();
      await rewriteRevokedMarkers(deps, revoked);
    }
    return session;
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}

async function findByIdentity(deps: Deps, scope: OtpScope, identity: OtpIdentity): Promise<Consumer | null> {
  return deps.prisma.consumer.findFirst({
    where: {
      organizationId: scope.organizationId,
      mode: scope.mode,
      ...(identity.kind === "email" ? { email: identity.value } : { phone: identity.value }),
    },
  });
}
