import type { OtpChannel } from "@authplane/contracts";

/** One OTP message to send. Holds the code: never log it, never store it outside the dev transport. */
export interface OtpMessage {
  channel: OtpChannel;
  /** Lower-cased email or E.164 number. */
  to: string;
  code: string;
  organizationName: string;
  ttlSeconds: number;
  /**
   * Same on every attempt of one job (the delivery's id). A transport that can de-duplicate on it
   * (the dev sink; a provider with an idempotency key) sends once even when a crash after the send
   * made the job run again; SMTP and the SMS provider API cannot.
   */
  idempotencyKey: string;
}

export interface SendResult {
  /** The provider's id of the accepted message (SMTP Message-ID, SMS sid, dev message id). */
  providerMessageId: string | null;
}

/**
 * A send that did not go out. `permanent`: retrying cannot help (rejected recipient, bad request),
 * so the job fails at once; otherwise it is retried with backoff. The message never contains the
 * code (providers' answers are summarized, not copied).
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

export interface Transport {
  send(message: OtpMessage): Promise<SendResult>;
  close?(): void;
}

/**
 * One transport per channel, plus the test sink: jobs of test-mode keys go there whatever
 * DELIVERY_TRANSPORT says, so test keys never reach a real mail or SMS provider.
 */
export type Transports = Record<OtpChannel, Transport> & { testSink: Transport };
