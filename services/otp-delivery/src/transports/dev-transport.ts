import { monotonicUlidFactory, type PgPool } from "@authplane/service-kit";
import { GroupCommit } from "../group-commit.js";
import { renderOtpEmail, renderOtpSms } from "../templates/otp-message.js";
import type { OtpMessage, SendResult, Transport } from "./transport.js";

// Monotonic within a millisecond, so "newest first" is exact for messages stored by one instance.
const nextUlid = monotonicUlidFactory();

interface DevMessageRow {
  id: string;
  channel: "email" | "sms";
  to: string;
  subject: string | null;
  text: string;
  code: string;
  deliveryId: string;
}

/**
 * Development transport: "sends" by storing the rendered message (code included, so a developer
 * can sign in) in `dev_messages`, served at GET /dev/outbox. Refused in production by env.ts.
 * Concurrent sends share one statement (group commit): under a flood of requests this was two
 * round trips per message.
 */
export class DevTransport implements Transport {
  private readonly inserts: GroupCommit<DevMessageRow, string | null>;

  /** `db`: a pool on the service's schema (search_path). */
  constructor(db: Pick<PgPool, "query">) {
    this.inserts = new GroupCommit<DevMessageRow, string | null>(async (rows) => {
      // At most one message per delivery: a retry after a crash between this insert and the
      // delivery being recorded as sent finds the message already there and reports it. The
      // outer SELECT sees the table as before the statement, so each delivery id comes back once:
      // from the INSERT when new, from the table when stored by an earlier attempt.
      const { rows: stored } = await db.query<{ id: string; delivery_id: string }>(
        `WITH inserted AS (
           INSERT INTO dev_messages (id, channel, "to", subject, text, code, delivery_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           ON CONFLICT (delivery_id) DO NOTHING
           RETURNING id, delivery_id
         )
         SELECT id, delivery_id FROM inserted
         UNION ALL
         SELECT id, delivery_id FROM dev_messages WHERE delivery_id = ANY($7::text[])`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.channel),
          rows.map((r) => r.to),
          rows.map((r) => r.subject),
          rows.map((r) => r.text),
          rows.map((r) => r.code),
          rows.map((r) => r.deliveryId),
        ],
      );
      const byDelivery = new Map(stored.map((s) => [s.delivery_id, s.id]));
      return rows.map((r) => byDelivery.get(r.deliveryId) ?? null);
    });
  }

  async send(message: OtpMessage): Promise<SendResult> {
    const id = `msg_${nextUlid()}`;
    let rendered: { channel: "email" | "sms"; subject: string | null; text: string };
    if (message.channel === "email") {
      const { subject, text } = renderOtpEmail(message);
      rendered = { channel: "email", subject, text };
    } else rendered = { channel: "sms", subject: null, text: renderOtpSms(message) };
    const stored = await this.inserts.add({ id, ...rendered, to: message.to, code: message.code, deliveryId: message.idempotencyKey });
    return { providerMessageId: stored ?? id };
  }
}
