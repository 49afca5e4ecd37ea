import { EventType, IdPrefix, type EventEnvelope, type OtpDeliveryOutcomeData, type OtpRequestedData } from "@authplane/contracts";
import type { KeyObject } from "node:crypto";
import { type Logger, newEvent, openOtpCode, type OtpMetrics, outboxRow, SealOpenError, ulid } from "@authplane/service-kit";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { maskDestination } from "../mask-destination.js";
import { DeliveryError, type Transports } from "../transports/transport.js";

export interface DeliverOtpDeps {
  prisma: PrismaClient;
  transports: Transports;
  /** Private keys that open the sealed codes (OTP_SEAL_PRIVATE_KEY). */
  sealKeys: KeyObject[];
  logger: Logger;
  /** Called after an outcome event was committed to the outbox (relay it now). */
  onOutboxWrite: () => void;
  /** Retry delays (ms) after the n-th failed attempt (the last one repeats). */
  backoffMs: number[];
  /** Attempts after which a transiently failing job is given up. */
  maxAttempts: number;
  /** How long one instance holds a job while sending (others wait rather than send too). */
  leaseMs: number;
  /** Counts outcomes (`otp_delivery_attempts_total{channel, outcome="sent"|"failed"}`). */
  metrics?: OtpMetrics;
}

/** What the consumer does with the JetStream message afterwards. */
export type DeliveryDecision = { kind: "ack" } | { kind: "retry"; delayMs: number };

export interface DeliveryJob {
  envelope: EventEnvelope;
  data: OtpRequestedData;
  /** JetStream delivery count of this message (1 on first delivery). */
  deliveryCount: number;
}

interface ClaimedRow {
  id: string;
  attempts: number;
}

/**
 * Delivers one `otp.v1.requested` job at most once per event id:
 *  1. claim: insert the delivery record (event_id UNIQUE) if new, then take a lease on it with one
 *     atomic UPDATE that only succeeds while it is `pending` and nobody else holds it;
 *  2. a job already `sent`/`failed` is just acknowledged; one leased by another instance waits;
 *  3. send, then record `sent` + `otp.v1.delivered` (or `failed` + `otp.v1.delivery_failed`) in one
 *     transaction with the outbox row; a transient failure releases the lease and retries later.
 * A crash between the provider accepting and step 3 committing is the one window where a second
 * message can go out (after the lease expires): SMTP and the SMS API offer no idempotency key to
 * close it; the dev/test sink does (one message per delivery id, OtpMessage.idempotencyKey).
 */
export async function deliverOtp(deps: DeliverOtpDeps, job: DeliveryJob): Promise<DeliveryDecision> {
  const { envelope, data } = job;
  const destination = maskDestination(data.channel, data.to);
  const log = deps.logger.child({ eventId: envelope.id, requestId: data.requestId, channel: data.channel, to: destination });

  const claimed = await claim(deps, job, destination);
  if (!claimed) {
    const row = await deps.prisma.delivery.findFirst({ where: { eventId: envelope.id }, select: { status: true, lockedUntil: true } });
    if (row?.status !== "pending") {
      log.debug({ status: row?.status }, "job already handled; acknowledging");
      return { kind: "ack" };
    }
    const waitMs = Math.max(500, (row.lockedUntil?.getTime() ?? Date.now()) - Date.now());
    log.debug({ waitMs }, "job is being sent by another instance");
    return { kind: "retry", delayMs: waitMs };
  }

  if (Date.parse(data.expiresAt) <= Date.now()) {
    await finish(deps, job, claimed, destination, { status: "failed", error: "code expired before it could be delivered" });
    log.warn({ attempts: claimed.attempts }, "otp delivery failed: code expired before delivery");
    return { kind: "ack" };
  }

  // Only here is the code in clear: opened for this job (id, organization, mode, request,
  // channel, destination), so a box that was altered or moved to another job is refused.
  let code: string;
  try {
    code = openOtpCode(data.sealedCode, deps.sealKeys, {
      eventId: envelope.id,
      organizationId: envelope.organizationId,
      mode: envelope.mode,
      requestId: data.requestId,
      channel: data.channel,
      to: data.to,
    });
  } catch (err) {
    if (!(err instanceof SealOpenError)) throw err;
    // Permanent: no retry can open it. Recorded as failed, acknowledged, never sent.
    await finish(deps, job, claimed, destination, { status: "failed", error: `sealed code refused: ${err.message}` });
    log.warn({ attempts: claimed.attempts, error: err.message }, "otp delivery refused: the sealed code does not open");
    return { kind: "ack" };
  }

  let providerMessageId: string | null;
  try {
    // Test keys never reach a real provider: their jobs go to the test sink (dev_messages).
    const transport = envelope.mode === "test" ? deps.transports.testSink : deps.transports[data.channel];
    ({ providerMessageId } = await transport.send({
      channel: data.channel,
      to: data.to,
      code,
      organizationName: data.organizationName,
      ttlSeconds: data.ttlSeconds,
      idempotencyKey: claimed.id,
    }));
  } catch (err) {
    const failure =
      err instanceof DeliveryError ? err : new DeliveryError(`unexpected transport error (${(err as Error).name ?? "error"})`, false);
    // Belt and braces: whatever a provider echoed, the code never reaches a record or a log line.
    const error = scrub(failure.message, code);
    const outOfAttempts = claimed.attempts >= deps.maxAttempts || job.deliveryCount >= deps.maxAttempts;
    if (failure.permanent || outOfAttempts) {
      await finish(deps, job, claimed, destination, { status: "failed", error });
      log.warn({ attempts: claimed.attempts, error, permanent: failure.permanent }, "otp delivery failed");
      return { kind: "ack" };
    }
    await deps.prisma.delivery.update({
      where: { id: claimed.id },
      data: { lastError: error, lockedUntil: null, updatedAt: new Date() },
    });
    const delayMs = deps.backoffMs[Math.min(claimed.attempts - 1, deps.backoffMs.length - 1)] ?? 1_000;
    log.info({ attempts: claimed.attempts, error, delayMs }, "otp delivery attempt failed; will retry");
    return { kind: "retry", delayMs };
  }

  // The message is out: recording it must not be given up lightly (a lost record = a resend later).
  await withRetries(() => finish(deps, job, claimed, destination, { status: "sent", providerMessageId }), 4, 250);
  log.info({ attempts: claimed.attempts, deliveryId: claimed.id }, "otp delivered");
  return { kind: "ack" };
}

async function claim(deps: DeliverOtpDeps, job: DeliveryJob, destination: string): Promise<ClaimedRow | null> {
  const { envelope, data } = job;
  const id = `${IdPrefix.delivery}${ulid()}`;
  // INSERT … ON CONFLICT (event_id) DO NOTHING: the first delivery of an event creates the record.
  await deps.prisma.delivery.createMany({
    data: [
      {
        id,
        eventId: envelope.id,
        requestId: data.requestId,
        organizationId: envelope.organizationId,
        mode: envelope.mode,
        channel: data.channel,
        destination,
      },
    ],
    skipDuplicates: true,
  });
  // One UPDATE … WHERE … RETURNING: Postgres re-checks the WHERE under the row lock, so of two
  // instances racing for one event exactly one gets the row back.
  const now = new Date();
  const rows = await deps.prisma.delivery.updateManyAndReturn({
    where: { eventId: envelope.id, status: "pending", OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
    data: { attempts: { increment: 1 }, lockedUntil: new Date(now.getTime() + deps.leaseMs), updatedAt: now },
    select: { id: true, attempts: true },
  });
  return rows[0] ?? null;
}

type Outcome = { status: "sent"; providerMessageId: string | null } | { status: "failed"; error: string };

async function finish(deps: DeliverOtpDeps, job: DeliveryJob, row: ClaimedRow, destination: string, outcome: Outcome): Promise<void> {
  const { envelope, data } = job;
  const eventData: OtpDeliveryOutcomeData = {
    requestId: data.requestId,
    deliveryId: row.id,
    channel: data.channel,
    to: destination,
    attempts: row.attempts,
    providerMessageId: outcome.status === "sent" ? outcome.providerMessageId : null,
    ...(outcome.status === "failed" ? { error: outcome.error } : {}),
  };
  const event = newEvent(
    outcome.status === "sent" ? EventType.otpDelivered : EventType.otpDeliveryFailed,
    { organizationId: envelope.organizationId, mode: envelope.mode },
    eventData,
  );
  const outbox = outboxRow(event);
  await deps.prisma.$transaction([
    deps.prisma.delivery.update({
      where: { id: row.id },
      data: {
        status: outcome.status,
        providerMessageId: outcome.status === "sent" ? outcome.providerMessageId : null,
        lastError: outcome.status === "failed" ? outcome.error : null,
        lockedUntil: null,
        updatedAt: new Date(),
      },
    }),
    deps.prisma.outboxEvent.create({
      data: { id: outbox.id, type: outbox.type, payload: outbox.payload as unknown as Prisma.InputJsonValue },
    }),
  ]);
  deps.onOutboxWrite();
  deps.metrics?.delivered.inc({ channel: data.channel, outcome: outcome.status });
}

function scrub(text: string, code: string): string {
  return text.split(code).join("[code]").slice(0, 500);
}

async function withRetries<T>(fn: () => Promise<T>, tries: number, delayMs: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, delayMs * i));
    }
  }
}
