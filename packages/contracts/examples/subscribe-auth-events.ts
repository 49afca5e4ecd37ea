import { type AuthEvent, parseEventMessage, subjects } from "@authplane/contracts";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export interface SubscribeOptions {
  /** NATS servers, e.g. "nats://127.0.0.1:4222" (add your credentials: see infra/nats/). */
  servers: string;
  /** Your service's durable consumer: it remembers what you acked across restarts. */
  durable: string;
  onEvent(event: AuthEvent): void | Promise<void>;
  /** Only for tests that isolate themselves on a shared server; production uses neither. */
  subjectPrefix?: string;
  streamSuffix?: string;
}

/** Reads every auth event from the AUTH_EVENTS stream, parsed with the contracts' catalog. */
export async function subscribeToAuthEvents(opts: SubscribeOptions) {
  const s = subjects(opts.subjectPrefix, opts.streamSuffix);
  const nc = await connect({ servers: opts.servers });
  const jsm = await jetstreamManager(nc);
  // Creating a durable consumer that exists with the same config is a no-op.
  await jsm.consumers.add(s.eventsStream, { durable_name: opts.durable, ack_policy: AckPolicy.Explicit, filter_subject: s.allEvents });
  const consumer = await jetstream(nc).consumers.get(s.eventsStream, opts.durable);
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const m of messages) {
      const parsed = parseEventMessage(m.data);
      if (!parsed.success) {
        // Not a catalogued event (or a version this build does not know): never redelivered.
        console.warn(`skipping ${m.subject} #${m.seq}: ${parsed.error}`);
        m.term();
        continue;
      }
      try {
        await opts.onEvent(parsed.event);
        m.ack();
      } catch {
        m.nak(5_000); // try again in 5 s
      }
    }
  })();
  return {
    async stop() {
      messages.stop();
      await done;
      await nc.drain();
    },
  };
}

/** Narrow on `type` and `data` is typed. */
export function describeEvent(event: AuthEvent): string {
  switch (event.type) {
    case "sessions.v1.revoked":
      return `session ${event.data.sessionId} of ${event.data.consumerId} revoked (${event.data.reason})`;
    case "keys.v1.rotated":
      return `key ${event.data.keyId} replaced by ${event.data.replacedByKeyId}, works until ${event.data.expiresAt}`;
    default:
      return `${event.type} at ${event.occurredAt}`;
  }
}

export async function main() {
  const subscription = await subscribeToAuthEvents({
    servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    durable: "my-service",
    onEvent: (event) => console.log(describeEvent(event)),
  });
  process.once("SIGINT", () => void subscription.stop());
}
