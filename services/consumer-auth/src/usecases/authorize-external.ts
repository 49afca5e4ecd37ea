import { createHash } from "node:crypto";
import {
  type ConsumerLinkedData,
  EventType,
  type ExternalAuthorizeRequest,
  type ExternalAuthorizeResponse,
  IdPrefix,
  type VerifiedKey,
} from "@authplane/contracts";
import { isUniqueViolation, newEvent, randomBase62, ulid } from "@authplane/service-kit";
import { outboxData } from "../events/outbox.js";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import type { Prisma } from "../generated/prisma/client.js";

/** What an exchange code stands for (Redis value, JSON). */
export const ExchangeCodeData = z.object({
  /** Null when the consumer is created at exchange (resolution "created"). */
  consumerId: z.string().nullable(),
  provider: z.string(),
  issuer: z.string(),
  subject: z.string(),
  claims: z.record(z.string(), z.unknown()),
  /** Lower-cased email the organization asserted as verified, if any. */
  verifiedEmail: z.string().nullable(),
  resolution: z.enum(["existing", "linked", "created"]),
});
export type ExchangeCodeData = z.infer<typeof ExchangeCodeData>;

/**
 * Redis key of an exchange code: scoped by organization and mode, so another org's key never finds
 * it, and named by the SHA-256 of the code (like webauthn-credential's one-time tokens): a reader
 * of Redis keys (`SCAN`, `MONITOR`, a dump, a replica) learns no usable code.
 */
export function exchangeCodeKey(organizationId: string, mode: string, code: string): string {
  return `exc:${organizationId}:${mode}:${createHash("sha256").update(code, "utf8").digest("base64url")}`;
}

/** `exc_` + 32 base62 chars (~190 bits): unguessable, single use. */
function newExchangeCode(): string {
  return `${IdPrefix.exchangeCode}${randomBase62(32)}`;
}

export const EXCHANGE_CODE_PATTERN = /^exc_[0-9A-Za-z]{32}$/;

function verifiedEmailOf(claims: Record<string, unknown>): string | null {
  const email = claims.email;
  const verified = claims.email_verified === true || claims.emailVerified === true;
  if (typeof email !== "string" || !verified) return null;
  const normalized = email.trim().toLowerCase();
  // Length first: the pattern backtracks quadratically, so it only ever sees <= 320 characters.
  if (normalized.length > 320) return null;
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalized) ? normalized : null;
}

/**
 * POST /external/authorize. Resolves the (organization, mode, provider, issuer, subject) identity:
 * - existing: the identity is known -> its consumer;
 * - linked: unknown identity, but the claims carry a VERIFIED email (`email_verified: true`) equal
 *   to the verified email of a consumer of the same org+mode -> the identity is attached to it now
 *   (`consumers.v1.linked`);
 * - created: otherwise; the consumer is created when the code is exchanged (so that an exchange
 *   holding a guest token upgrades that guest in place instead of creating a second consumer).
 * Then stores a single-use exchange code in Redis for EXCHANGE_CODE_TTL_SECONDS.
 */
export async function authorizeExternal(
  deps: AppDeps,
  input: { key: VerifiedKey; body: ExternalAuthorizeRequest },
): Promise<ExternalAuthorizeResponse> {
  const { key, body } = input;
  const claims = body.claims ?? {};
  const where = {
    organizationId: key.organizationId,
    mode: key.mode,
    provider: body.provider,
    issuer: body.issuer,
    subject: body.subject,
  };
  const verifiedEmail = verifiedEmailOf(claims);
  let consumerId: string | null = null;
  let resolution: ExchangeCodeData["resolution"] = "created";

  const identity = await deps.prisma.externalIdentity.findFirst({ where });
  if (identity) {
    consumerId = identity.consumerId;
    resolution = "existing";
    if (body.claims) {
      await deps.prisma.externalIdentity.update({
        where: { id: identity.id },
        data: { claims: body.claims as Prisma.InputJsonObject, updatedAt: new Date() },
      });
    }
  } else if (verifiedEmail) {
    const match = await deps.prisma.consumer.findFirst({
      where: { organizationId: key.organizationId, mode: key.mode, email: verifiedEmail },
    });
    if (match?.emailVerifiedAt) {
      try {
        await deps.prisma.$transaction(async (tx) => {
          await tx.externalIdentity.create({
            data: { id: `eid_${ulid()}`, ...where, consumerId: match.id, claims: claims as Prisma.InputJsonObject },
          });
          const data: ConsumerLinkedData = {
            consumerId: match.id,
            provider: body.provider,
            issuer: body.issuer,
            subject: body.subject,
            via: "email",
          };
          const ev = newEvent(EventType.consumerLinked, { organizationId: key.organizationId, mode: key.mode }, data);
          await tx.outboxEvent.create({ data: outboxData(ev) });
        });
        deps.relay.kick();
        consumerId = match.id;
        resolution = "linked";
      } catch (err) {
        // A concurrent authorize linked or created it first: it is now an existing identity.
        if (!isUniqueViolation(err)) throw err;
        const again = await deps.prisma.externalIdentity.findFirst({ where });
        if (!again) throw err;
        consumerId = again.consumerId;
        resolution = "existing";
      }
    }
  }

  const code = newExchangeCode();
  const ttl = deps.env.EXCHANGE_CODE_TTL_SECONDS;
  const data: ExchangeCodeData = {
    consumerId,
    provider: body.provider,
    issuer: body.issuer,
    subject: body.subject,
    claims,
    verifiedEmail,
    resolution,
  };
  await deps.redis.set(exchangeCodeKey(key.organizationId, key.mode, code), JSON.stringify(data), "EX", ttl);
  return { exchangeCode: code, expiresAt: new Date(Date.now() + ttl * 1000).toISOString(), resolution };
}
