import { LookupCatalog, type LookupName, LookupUnavailableReply, type Subjects } from "@authplane/contracts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import { natsRequest } from "./nats.js";

type Lookup<N extends LookupName> = (typeof LookupCatalog)[N];
export type LookupRequest<N extends LookupName> = z.input<Lookup<N>["request"]>;
export type LookupReply<N extends LookupName> = z.output<Lookup<N>["reply"]>;

/** What a lookup over NATS answered: the parsed reply, or the responder could not look it up. */
export type LookupResult<N extends LookupName> =
  | { ok: true; reply: LookupReply<N> }
  | { ok: false; reason: "unavailable" | "invalid_reply" };

/**
 * Asks a request/reply lookup of the catalog (`keys.v1.verify`, `orgs.v1.get`) and parses the
 * reply with its schema: `unavailable` when the responder answered that it cannot look up (its
 * database is down), `invalid_reply` when the reply matches no shape (a responder of another
 * version). NATS faults (no responder, timeout, closed connection) throw as the client raised them.
 */
export async function requestLookup<N extends LookupName>(
  nc: NatsConnection,
  subjects: Subjects,
  name: N,
  request: LookupRequest<N>,
  timeoutMs = 2_000,
): Promise<LookupResult<N>> {
  const subject = `${subjects.prefix}${name}`;
  // Trace context and request id in the headers; a client span around the round trip.
  const msg = await natsRequest(nc, subject, JSON.stringify(request), { timeout: timeoutMs });
  let raw: unknown;
  try {
    raw = msg.json();
  } catch {
    return { ok: false, reason: "invalid_reply" };
  }
  const schema: z.ZodType = LookupCatalog[name].reply;
  const parsed = schema.safeParse(raw) as z.ZodSafeParseResult<LookupReply<N>>;
  if (parsed.success) return { ok: true, reply: parsed.data };
  return { ok: false, reason: LookupUnavailableReply.safeParse(raw).success ? "unavailable" : "invalid_reply" };
}
