import { monotonicFactory } from "ulid";
import type { PrismaClient } from "../generated/prisma/client.js";
import { renderOtpEmail, renderOtpSms } from "../templates/otp-message.js";
import type { OtpMessage, SendResult, Transport } from "./transport.js";

// Monotonic within a millisecond, so "newest first" is exact for messages stored by one instance.
const nextUlid = monotonicFactory();

/**
 * Development transport: "sends" by storing the rendered message (code included, so a developer
 * can sign in) in `dev_messages`, served at GET /dev/outbox. Refused in production by env.ts.
 */
export class DevTransport implements Transport {
  constructor(private readonly prisma: PrismaClient) {}

  async send(message: OtpMessage): Promise<SendResult> {
    const id = `msg_${nextUlid()}`;
    let rendered: { channel: "email" | "sms"; subject: string | null; text: string };
    if (message.channel === "email") {
      const { subject, text } = renderOtpEmail(message);
      rendered = { channel: "email", subject, text };
    } else rendered = { channel: "sms", subject: null, text: renderOtpSms(message) };
    // At most one message per delivery: a retry after a crash between this insert and the
    // delivery being recorded as sent finds the message already there and reports it.
    await this.prisma.devMessage.createMany({
      data: [{ id, ...rendered, to: message.to, code: message.code, deliveryId: message.idempotencyKey }],
      skipDuplicates: true,
    });
    const stored = await this.prisma.devMessage.findUnique({ where: { deliveryId: message.idempotencyKey }, select: { id: true } });
    return { providerMessageId: stored?.id ?? id };
  }
}
