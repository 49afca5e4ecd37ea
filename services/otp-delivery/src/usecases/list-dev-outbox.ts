import type { AppDeps } from "../deps.js";
import { Errors } from "../errors.js";

const E164 = /^\+[1-9]\d{5,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Normalises `to` like consumer-auth does: emails lower-cased; phone numbers are E.164 as given.
 * An unencoded `+` in a query string decodes to a space, so a leading space before digits is read
 * as the `+` the caller meant (`?to=+15551234567` from a browser or curl).
 */
export function normalizeOutboxRecipient(raw: string): string | null {
  const fixed = /^ \d/.test(raw) ? `+${raw.slice(1)}` : raw;
  const value = fixed.trim();
  if (value.includes("@")) return EMAIL.test(value) ? value.toLowerCase() : null;
  const phone = value.replace(/[\s()-]/g, "");
  return E164.test(phone) ? phone : null;
}

export interface DevOutboxMessage {
  id: string;
  channel: string;
  to: string;
  subject: string | null;
  text: string;
  code: string;
  createdAt: string;
}

/** The messages the dev transport stored (to one recipient when `to` is given), newest first, at most 50. */
export async function listDevOutbox(deps: Pick<AppDeps, "prisma">, input: { to?: string }): Promise<{ messages: DevOutboxMessage[] }> {
  let recipient: string | undefined;
  if (input.to !== undefined) {
    const normalized = normalizeOutboxRecipient(input.to);
    if (!normalized) throw Errors.invalidRecipient();
    recipient = normalized;
  }
  const rows = await deps.prisma.devMessage.findMany({
    where: recipient ? { to: recipient } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 50,
  });
  return {
    messages: rows.map((m) => ({
      id: m.id,
      channel: m.channel,
      to: m.to,
      subject: m.subject,
      text: m.text,
      code: m.code,
      createdAt: m.createdAt.toISOString(),
    })),
  };
}
