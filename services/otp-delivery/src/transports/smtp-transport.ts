import nodemailer from "nodemailer";
import { renderOtpEmail } from "../templates/otp-message.js";
import { DeliveryError, type OtpMessage, type SendResult, type Transport } from "./transport.js";

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  /** Fail instead of sending without TLS (nodemailer `requireTLS`: STARTTLS is mandatory). */
  requireTls: boolean;
  user: string;
  password: string;
  from: string;
  timeoutMs: number;
  /** Pooled connections (SMTP_MAX_CONNECTIONS). */
  maxConnections: number;
}

/** Email through an SMTP server (nodemailer), plain-text and HTML parts. */
export class SmtpTransport implements Transport {
  private readonly transporter: nodemailer.Transporter;

  constructor(private readonly opts: SmtpOptions) {
    this.transporter = nodemailer.createTransport({
      // Reuse connections: one handshake (and TLS, AUTH) per connection, not per message.
      pool: true,
      maxConnections: opts.maxConnections,
      maxMessages: 1000,
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      requireTLS: opts.requireTls,
      auth: opts.user ? { user: opts.user, pass: opts.password } : undefined,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
      // nodemailer's own logger would print the message (and so the code): keep it off.
      logger: false,
      debug: false,
    });
  }

  async send(message: OtpMessage): Promise<SendResult> {
    const { subject, text, html } = renderOtpEmail(message);
    try {
      const info = await this.transporter.sendMail({ from: this.opts.from, to: message.to, subject, text, html });
      return { providerMessageId: typeof info.messageId === "string" ? info.messageId : null };
    } catch (err) {
      throw classifySmtpError(err);
    }
  }

  close(): void {
    this.transporter.close();
  }
}

/**
 * SMTP 5xx replies to the recipient or message are permanent (550 no such mailbox); 4xx replies,
 * connection faults and timeouts are transient. An authentication failure is our configuration,
 * not the recipient: retried, so that fixing the password in time still delivers. So is a TLS
 * failure (ETLS: no STARTTLS offered while SMTP_REQUIRE_TLS is on, or the upgrade failed): the
 * relay or the network path is at fault, and nothing was sent in clear.
 */
function classifySmtpError(err: unknown): DeliveryError {
  const e = err as { code?: string; responseCode?: number; command?: string };
  const responseCode = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const summary = `smtp ${e.code ?? "error"}${responseCode ? ` ${responseCode}` : ""}${e.command ? ` on ${e.command}` : ""}`;
  const permanent = responseCode !== undefined && responseCode >= 500 && e.code !== "EAUTH" && e.code !== "ETLS";
  return new DeliveryError(summary, permanent);
}
