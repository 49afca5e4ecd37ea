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
    if (message.channel === "email") {
      const { subject, text } = renderOtpEmail(message);
      await this.prisma.devMessage.create({ data: { id, channel: "email", to: message.to, subject, text, code: message.code } });
    } else {
      const text = renderOtpSms(message);
      await this.prisma.devMessage.create({ data: { id, channel: "sms", to: message.to, subject: null, text, code: message.code } });
    }
    return { providerMessageId: id };
  }
}
