import { EventEnvelope, EventType, type Mode, type Subjects } from "@authplane/contracts";
import type { Logger, NatsConnection } from "@authplane/service-kit";
import type { Msg, Subscription } from "@nats-io/transport-node";

/** One event as the console's live tail shows it (the envelope without its tracing fields). */
export interface TailEvent {
  id: string;
  type: string;
  occurredAt: string;
  organizationId: string;
  mode: Mode | null;
  data: Record<string, unknown>;
}

type Listener = (event: TailEvent) => void;

export interface EventTailOptions {
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  /** Events kept per organization for a page that opens the tail (default 50). */
  backlog?: number;
  /** Organizations whose backlog is kept (least recently active dropped first; default 1,000). */
  maxOrganizations?: number;
}

/**
 * The live tail of every service's auth events (core NATS subscriptions to each event family: read only, no
 * consumer on the stream, nothing acknowledged), fanned out per organization to the console's
 * server-sent-event streams. Each admin-key instance sees every event, so a page connected to any
 * instance gets them all. Events without an organization (platform-wide) and malformed messages
 * are dropped. NATS authorisation lets admin-key subscribe to the other services' events for this
 * (service-kit nats-authz.ts), never publish them.
 */
export class EventTail {
  private readonly backlog: number;
  private readonly maxOrganizations: number;
  private readonly recentByOrg = new Map<string, TailEvent[]>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private subs: Subscription[] = [];

  constructor(private readonly opts: EventTailOptions) {
    this.backlog = opts.backlog ?? 50;
    this.maxOrganizations = opts.maxOrganizations ?? 1000;
  }

  start(): void {
    if (this.subs.length > 0) return;
    // One subscription per event family of the catalog (`auth.sessions.v1.*`, …): what NATS
    // authorisation grants admin-key, never a wildcard over every subject.
    const families = [...new Set(Object.values(EventType).map((type) => type.slice(0, type.lastIndexOf("."))))];
    this.subs = families.map((family) =>
      this.opts.nc.subscribe(this.opts.subjects.event(`${family}.*`), { callback: (err, msg) => (err ? undefined : this.receive(msg)) }),
    );
  }

  stop(): void {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
    this.listeners.clear();
  }

  /** The organization's latest events, oldest first (optionally one mode only). */
  recent(organizationId: string, mode?: Mode): TailEvent[] {
    const all = this.recentByOrg.get(organizationId) ?? [];
    return mode ? all.filter((e) => e.mode === mode) : [...all];
  }

  /** Calls `listener` with each new event of the organization; returns the unsubscribe function. */
  listen(organizationId: string, listener: Listener): () => void {
    let set = this.listeners.get(organizationId);
    if (!set) {
      set = new Set();
      this.listeners.set(organizationId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(organizationId) === set) this.listeners.delete(organizationId);
    };
  }

  private receive(msg: Msg): void {
    let parsed: ReturnType<typeof EventEnvelope.safeParse>;
    try {
      parsed = EventEnvelope.safeParse(msg.json());
    } catch {
      return;
    }
    if (!parsed.success || parsed.data.organizationId === null) return;
    const e = parsed.data;
    this.push({ id: e.id, type: e.type, occurredAt: e.occurredAt, organizationId: e.organizationId as string, mode: e.mode, data: e.data });
  }

  private push(event: TailEvent): void {
    const org = event.organizationId;
    const list = this.recentByOrg.get(org) ?? [];
    // Re-inserted: the Map's order is least recently active first.
    this.recentByOrg.delete(org);
    if (list.some((e) => e.id === event.id)) {
      this.recentByOrg.set(org, list);
      return; // an outbox relay retry publishes the same event again
    }
    list.push(event);
    if (list.length > this.backlog) list.splice(0, list.length - this.backlog);
    this.recentByOrg.set(org, list);
    if (this.recentByOrg.size > this.maxOrganizations) {
      const oldest = this.recentByOrg.keys().next().value;
      if (oldest !== undefined) this.recentByOrg.delete(oldest);
    }
    for (const listener of [...(this.listeners.get(org) ?? [])]) {
      try {
        listener(event);
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, "event tail listener failed");
      }
    }
  }
}
