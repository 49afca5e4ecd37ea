import type { KeyObject } from "node:crypto";
import { type CatalogEvent, OTP_REQUESTED_TYPE, OTP_REQUESTED_VERSION, type OtpRequestedData, type Subjects } from "@authplane/contracts";
import {
  DependencyUnavailableError,
  ensureStream,
  injectNatsHeaders,
  inMessagingSpan,
  type JetStreamClient,
  natsHeaders,
  type JetStreamManager,
  type Metrics,
  newEvent,
  newEventId,
  otpMetrics,
  sealOtpCode,
} from "@authplane/service-kit";
import type { OtpScope } from "./code-store.js";

export interface OtpJobPublisherOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  /** Code lifetime: the stream keeps a job no longer than its code can be used. */
  ttlSeconds: number;
  /** NATS_STREAM_REPLICAS (default 1). */
  streamReplicas?: number;
  /** otp-delivery's X25519 public key: the code is sealed to it (only otp-delivery can read it). */
  sealPublicKey: KeyObject;
  publishTimeoutMs?: number;
  /** Counts queued jobs (`otp_requested_total{channel}`). */
  metrics?: Metrics;
}

/** A delivery job before sealing: the code in clear, which never leaves this process. */
export type OtpJobInput = Omit<OtpRequestedData, "sealedCode"> & { code: string };

/**
 * Publishes `otp.v1.requested` delivery jobs (the code sealed to otp-delivery's key, bound to the
 * job's id, organization, mode, request id, channel and destination) to the OTP_REQUESTS stream and resolves only once
 * JetStream acknowledged them. The stream is ensured once, on first use (and again after a
 * failure), so consumer-auth does not depend on stream set-up order at start-up.
 */
export class OtpJobPublisher {
  private streamReady: Promise<void> | null = null;

  constructor(private readonly opts: OtpJobPublisherOptions) {}

  ensureStream(): Promise<void> {
    if (!this.streamReady) {
      const { jsm, subjects, ttlSeconds, streamReplicas } = this.opts;
      this.streamReady = ensureStream(jsm, {
        name: subjects.otpStream,
        subjects: [subjects.otpRequested],
        maxAgeSeconds: ttlSeconds,
        replicas: streamReplicas,
      }).catch((err: unknown) => {
        this.streamReady = null;
        throw err;
      });
    }
    return this.streamReady;
  }

  /** Builds the envelope (code sealed) and publishes it with its id as the message id; returns the envelope. */
  async publish(scope: OtpScope, input: OtpJobInput): Promise<CatalogEvent<typeof OTP_REQUESTED_TYPE>> {
    const { code, ...rest } = input;
    // The code is sealed to the event id, so the id comes first.
    const id = newEventId();
    const sealedCode = sealOtpCode(code, this.opts.sealPublicKey, {
      eventId: id,
      organizationId: scope.organizationId,
      mode: scope.mode,
      requestId: rest.requestId,
      channel: rest.channel,
      to: rest.to,
    });
    const event = newEvent(OTP_REQUESTED_TYPE, scope, { ...rest, sealedCode }, { version: OTP_REQUESTED_VERSION, id });
    try {
      await this.ensureStream();
      const subject = this.opts.subjects.otpRequested;
      // In a producer span; the headers carry it (and the request id) to otp-delivery's consumer.
      await inMessagingSpan("publish", subject, { attributes: { "messaging.message.id": event.id } }, () =>
        this.opts.js.publish(subject, JSON.stringify(event), {
          msgID: event.id,
          timeout: this.opts.publishTimeoutMs ?? 3_000,
          headers: injectNatsHeaders(natsHeaders()),
        }),
      );
    } catch (err) {
      // Ensure the stream again next time: it may have been deleted or never created.
      this.streamReady = null;
      throw new DependencyUnavailableError("nats", err);
    }
    if (this.opts.metrics) otpMetrics(this.opts.metrics.registry).requested.inc({ channel: input.channel });
    return event;
  }
}
