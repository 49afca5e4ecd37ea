import { OTP_REQUESTED_TYPE, parseEventMessage, type Subjects } from "@authplane/contracts";
import {
  AckPolicy,
  contextFromTraceFields,
  ensureStream,
  extractNatsHeaders,
  inMessagingSpan,
  type JetStreamClient,
  type JetStreamManager,
  type Logger,
  nanos,
  type OtpMetrics,
  retryTransient,
} from "@authplane/service-kit";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { DeliveryDecision, DeliveryJob } from "../usecases/deliver-otp.js";

export interface OtpRequestedConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  logger: Logger;
  /** Counts scheduled retries (`otp_delivery_attempts_total{outcome="retry"}`). */
  metrics?: OtpMetrics;
  /** Durable name shared by every instance (they split the work). */
  durableName: string;
  /** OTP_REQUESTS max age: the code lifetime (same config as the publisher's). */
  streamMaxAgeSeconds: number;
  /** NATS_STREAM_REPLICAS (default 1); the durable consumer inherits it. */
  streamReplicas?: number;
  /** Consumer `backoff` (the first value is the ack wait). */
  backoffSeconds: number[];
  /** Consumer `max_deliver`. */
  maxDeliver: number;
  /** Messages worked on at once by this instance. */
  concurrency: number;
  handle(job: DeliveryJob): Promise<DeliveryDecision>;
  /** How long one pull waits for messages (ms, >= 1000); also bounds how long stop() waits for it. */
  fetchExpiresMs?: number;
}

/**
 * The durable pull consumer of `otp.v1.requested`. Pulls only as many messages as it has free
 * slots (a buffered message's ack timer would run while it waits), keeps each in-flight message
 * alive with `working()`, and parses every message with the contracts before handling it.
 */
export class OtpRequestedConsumer {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private current: ConsumerMessages | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | null = null;

  constructor(private readonly opts: OtpRequestedConsumerOptions) {}

  /** Creates (or updates) the stream and the durable consumer; safe when instances start together. */
  async ensure(): Promise<void> {
    const { jsm, subjects, durableName } = this.opts;
    await ensureStream(jsm, {
      name: subjects.otpStream,
      subjects: [subjects.otpRequested],
      maxAgeSeconds: this.opts.streamMaxAgeSeconds,
      replicas: this.opts.streamReplicas,
    });
    const config = {
      durable_name: durableName,
      filter_subject: subjects.otpRequested,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos((this.opts.backoffSeconds[0] ?? 30) * 1000),
      backoff: this.opts.backoffSeconds.map((s) => nanos(s * 1000)),
      max_deliver: this.opts.maxDeliver,
      // Several instances pull at once.
      max_waiting: 512,
      max_ack_pending: 1000,
    };
    let exists = true;
    try {
      await jsm.consumers.info(subjects.otpStream, durableName);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      exists = false;
    }
    if (!exists) {
      try {
        await jsm.consumers.add(subjects.otpStream, config);
        return;
      } catch (err) {
        // Another instance created it first: fall through to bring it to this config.
        if (!/already (exists|in use)/i.test((err as Error).message)) throw err;
      }
    }
    const { durable_name: _name, ...updatable } = config;
    try {
      await jsm.consumers.update(subjects.otpStream, durableName, updatable);
    } catch (err) {
      // Some fields cannot change on a live consumer: keep working with the existing one.
      this.opts.logger.warn({ err: (err as Error).message, durableName }, "could not update the otp consumer's config; using it as is");
    }
  }

  async start(): Promise<void> {
    // Retried: on a fresh NATS cluster the replicated stream and consumer can outlast one API timeout.
    await retryTransient(() => this.ensure());
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops pulling, then waits for the messages in hand to finish (they are acked or nak'ed). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.current?.stop();
    this.slotFreed?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { js, subjects, durableName, logger } = this.opts;
    // Looked up once (a consumer info round trip), again only after a failed pull.
    let consumer: Awaited<ReturnType<typeof js.consumers.get>> | null = null;
    while (!this.stopping) {
      try {
        const free = this.opts.concurrency - this.inFlight.size;
        if (free <= 0) {
          await new Promise<void>((resolve) => {
            this.slotFreed = resolve;
          });
          this.slotFreed = null;
          continue;
        }
        consumer ??= await js.consumers.get(subjects.otpStream, durableName);
        const batch = await consumer.fetch({ max_messages: free, expires: this.opts.fetchExpiresMs ?? 5_000 });
        this.current = batch;
        for await (const msg of batch) {
          if (this.stopping) {
            // Not started: give it straight back to another instance.
            msg.nak();
            continue;
          }
          this.track(this.process(msg));
        }
        this.current = null;
      } catch (err) {
        this.current = null;
        consumer = null;
        if (this.stopping) break;
        logger.warn({ err: (err as Error).message }, "pulling otp jobs failed; retrying");
        await sleep(1_000);
        // The stream or consumer may be gone (NATS restarted without its store): declare them again.
        await this.ensure().catch(() => {});
      }
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.slotFreed?.();
    });
  }

  private async process(msg: JsMsg): Promise<void> {
    const { logger } = this.opts;
    const parsed = parseJob(msg);
    if ("error" in parsed) {
      // Never log the content: it may hold a code. Seq and subject identify it; the reason names
      // the failing fields and rules only.
      logger.warn({ seq: msg.seq, subject: msg.subject, reason: parsed.error }, "discarding an otp job that does not match the contract");
      msg.term("invalid otp.v1.requested message");
      return;
    }
    const { job } = parsed;
    // The job continues the trace of the request that asked for the code (message headers, or the
    // envelope's copy), under its request id.
    const fromHeaders = extractNatsHeaders(msg.headers);
    const { envelope } = job;
    const parent = msg.headers?.has("traceparent") ? fromHeaders.ctx : contextFromTraceFields(envelope);
    const reqId = fromHeaders.reqId ?? envelope.reqId;
    const attributes = {
      "messaging.message.id": envelope.id,
      "messaging.consumer.group.name": this.opts.durableName,
      "otp.channel": job.data.channel,
    };
    await inMessagingSpan("process", msg.subject, { parent, reqId, attributes }, async (span) => {
      const heartbeatMs = Math.max(200, ((this.opts.backoffSeconds[0] ?? 30) * 1000) / 3);
      const heartbeat = setInterval(() => msg.working(), heartbeatMs);
      try {
        const decision = await this.opts.handle(job);
        span.setAttribute("otp.delivery.decision", decision.kind);
        // Carries the request id of the request that asked for the code (the logger adds it).
        logger.info({ eventId: envelope.id, channel: job.data.channel, decision: decision.kind }, "otp job handled");
        if (decision.kind === "ack") msg.ack();
        else {
          this.opts.metrics?.delivered.inc({ channel: job.data.channel, outcome: "retry" });
          msg.nak(decision.delayMs);
        }
      } catch (err) {
        // Postgres down or similar: nothing was sent; try again after the first backoff step.
        logger.warn({ eventId: job.envelope.id, err: (err as Error).message }, "otp job failed before sending; will retry");
        msg.nak((this.opts.backoffSeconds[1] ?? this.opts.backoffSeconds[0] ?? 1) * 1000);
      } finally {
        clearInterval(heartbeat);
      }
    });
  }
}

/**
 * The job in a message, parsed with the event catalog (envelope, then `data`), or why not. Only
 * envelope version 2 is catalogued: version 1 jobs carried the code in clear and are refused.
 */
function parseJob(msg: JsMsg): { job: DeliveryJob } | { error: string } {
  const parsed = parseEventMessage(msg.data);
  if (!parsed.success) return { error: parsed.error };
  const event = parsed.event;
  if (event.type !== OTP_REQUESTED_TYPE) return { error: `unexpected type ${event.type}` };
  return { job: { envelope: event, data: event.data, deliveryCount: msg.info.deliveryCount } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
