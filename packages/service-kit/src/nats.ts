import {
  AckPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { readFileSync } from "node:fs";
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  headers,
  type Msg,
  type NodeConnectionOptions,
  nanos,
  type NatsConnection,
  nkeyAuthenticator,
} from "@nats-io/transport-node";
import {
  type AuthEvent,
  type CatalogEvent,
  type CatalogEventType,
  catalogEntry,
  EventCatalog,
  type EventDataInputOf,
  type EventDataOf,
  type EventVersionOf,
  type Mode,
  type Subjects,
} from "@authplane/contracts";
import type { NatsAuthEnv } from "./env.js";
import { currentRequestId } from "./request-context.js";
import { extractNatsHeaders, injectNatsHeaders, inMessagingSpan, traceContextFields } from "./tracing.js";
import { ulid } from "./ulid.js";

export { AckPolicy, DiscardPolicy, headers as natsHeaders, nanos, RetentionPolicy, StorageType };
export type { JetStreamClient, JetStreamManager, Msg, NatsConnection };

/**
 * Prefix of a service's reply subjects (`_INBOX.<service>.…`). The shipped NATS authorisation
 * (infra/nats/) lets each service subscribe to its own inbox only, so no service can read the
 * replies or JetStream deliveries meant for another.
 */
export function inboxPrefixFor(service: string): string {
  return `_INBOX.${service}`;
}

export interface ConnectNatsOptions {
  /** NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS_FILE and NATS_TLS_* (see BaseEnv). */
  auth?: Partial<NatsAuthEnv>;
  /** Service whose inbox this connection uses (default: `name`). */
  service?: string;
}

/**
 * The connection options for the credentials and TLS files in `auth`. Credentials go to the
 * NATS client only: they are never part of a log line or an error message of the kit.
 */
export function natsAuthOptions(auth: Partial<NatsAuthEnv> = {}): Partial<NodeConnectionOptions> {
  const opts: Partial<NodeConnectionOptions> = {};
  const authenticators: Authenticator[] = [];
  if (auth.NATS_USER) {
    opts.user = auth.NATS_USER;
    opts.pass = auth.NATS_PASSWORD;
  }
  if (auth.NATS_TOKEN) opts.token = auth.NATS_TOKEN;
  if (auth.NATS_NKEY_SEED) authenticators.push(nkeyAuthenticator(new TextEncoder().encode(auth.NATS_NKEY_SEED)));
  if (auth.NATS_CREDS_FILE) {
    const file = auth.NATS_CREDS_FILE;
    // Read at each (re)connect, so a rotated .creds file is picked up without a restart.
    authenticators.push(credsAuthenticator(() => readFileSync(file)));
  }
  if (authenticators.length) opts.authenticator = authenticators.length === 1 ? authenticators[0] : authenticators;
  if (auth.NATS_TLS_CA_FILE || auth.NATS_TLS_CERT_FILE || auth.NATS_TLS_KEY_FILE) {
    opts.tls = {
      ...(auth.NATS_TLS_CA_FILE ? { caFile: auth.NATS_TLS_CA_FILE } : {}),
      ...(auth.NATS_TLS_CERT_FILE ? { certFile: auth.NATS_TLS_CERT_FILE } : {}),
      ...(auth.NATS_TLS_KEY_FILE ? { keyFile: auth.NATS_TLS_KEY_FILE } : {}),
    };
  }
  return opts;
}

export async function connectNats(servers: string, name: string, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  return connect({
    servers: servers.split(",").map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 3_000,
    inboxPrefix: inboxPrefixFor(opts.service ?? name),
    ...natsAuthOptions(opts.auth),
  });
}

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Messages older than this are dropped (seconds). */
  maxAgeSeconds: number;
  /** JetStream de-duplication window on Nats-Msg-Id (seconds); must not exceed maxAge. */
  duplicateWindowSeconds?: number;
  /** Servers holding a copy (NATS_STREAM_REPLICAS; default 1). Consumers inherit it. */
  replicas?: number;
}

/** Creates the stream, or updates it to this spec. Idempotent; safe when instances start together. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config = {
    name: spec.name,
    subjects: spec.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(spec.maxAgeSeconds * 1000),
    duplicate_window: nanos(Math.min(spec.duplicateWindowSeconds ?? 120, spec.maxAgeSeconds) * 1000),
    num_replicas: spec.replicas ?? 1,
  };
  try {
    await jsm.streams.info(spec.name);
    await jsm.streams.update(spec.name, config);
  } catch (err) {
    if (/not found/i.test((err as Error).message)) {
      try {
        await jsm.streams.add(config);
      } catch (e) {
        // Another instance created it first.
        if (!/already in use|exists/i.test((e as Error).message)) throw e;
      }
    } else throw err;
  }
}

/**
 * Whether a JetStream API call failed in a way a retry can cure: a timeout or no responders (the
 * server, or a clustered JetStream electing a leader, did not answer in time) or JetStream saying
 * it is temporarily unavailable. Refusals (permissions, bad config) are not.
 */
export function isTransientJetStreamError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const text = `${err.name} ${err.message} ${err.cause instanceof Error ? `${err.cause.name} ${err.cause.message}` : ""}`;
  if (/permission|authori[sz]ation/i.test(text)) return false;
  return /timeout|no ?responders|temporarily unavailable|leader|connection (closed|draining)|disconnect/i.test(text);
}

/**
 * Runs a JetStream API call again after transient failures (isTransientJetStreamError), up to
 * `attempts` times with `delayMs` between: declaring streams and consumers at start-up, when a
 * fresh NATS cluster may still be electing the leaders of the new replicated streams.
 */
export async function retryTransient<T>(fn: () => Promise<T>, opts: { attempts?: number; delayMs?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isTransientJetStreamError(err)) throw err;
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 1_000));
    }
  }
}

/** The event stream every service publishes its facts to. */
export async function ensureEventStream(jsm: JetStreamManager, subjects: Subjects, replicas = 1): Promise<void> {
  await ensureStream(jsm, { name: subjects.eventsStream, subjects: [subjects.allEvents], maxAgeSeconds: 7 * 24 * 3600, replicas });
}

export interface NatsHandles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export async function connectJetStream(servers: string, name: string, opts: ConnectNatsOptions = {}): Promise<NatsHandles> {
  const nc = await connectNats(servers, name, opts);
  const jsm = await jetstreamManager(nc, { timeout: 3_000 });
  const js = jetstream(nc, { timeout: 3_000 });
  return { nc, js, jsm };
}

/** A fresh event id (`evt_` + ULID), for a publisher that needs the id before the data (sealing). */
export function newEventId(): string {
  return `evt_${ulid()}`;
}

export interface NewEventOptions<V extends number> {
  /** Envelope version; needed only when the catalog has several versions of the type. */
  version?: V;
  /** The event id, when the data is bound to it (default: a fresh `newEventId()`). */
  id?: string;
}

/**
 * Builds the envelope of a catalogued event (`@authplane/contracts` EventCatalog): `data` is typed
 * by the catalog and parsed with its schema here, so a publisher that drifts from the contract
 * fails typecheck, and at the latest fails here, before the event reaches the outbox or NATS
 * (inside the writing transaction: the change rolls back with it). The parsed `data` is published
 * (defaults applied, unknown fields dropped). Throws EventContractError.
 */
export function newEvent<T extends CatalogEventType, V extends EventVersionOf<T> = EventVersionOf<T>>(
  type: T,
  scope: { organizationId: string | null; mode: Mode | null },
  data: EventDataInputOf<T, V>,
  opts: NewEventOptions<V> = {},
): CatalogEvent<T, V> {
  const version = opts.version ?? onlyVersion(type);
  const entry = catalogEntry(type, version);
  if (!entry) throw new EventContractError(`${type} version ${version} is not in the event catalog`);
  const parsed = entry.data.safeParse(data);
  // Issue paths and codes only: data may hold something that must not reach a log (a sealed code, an email).
  if (!parsed.success)
    throw new EventContractError(`${type} v${version}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.code}`).join("; ")}`);
  return {
    id: opts.id ?? newEventId(),
    type,
    version: version as V,
    occurredAt: new Date().toISOString(),
    organizationId: scope.organizationId,
    mode: scope.mode,
    data: parsed.data as EventDataOf<T, V>,
    // The trace and request this event belongs to travel with it (through the outbox too).
    ...traceContextFields(),
    ...requestIdField(),
  };
}

function requestIdField(): { reqId?: string } {
  const reqId = currentRequestId();
  return reqId ? { reqId } : {};
}

/** A publisher built an event its contract refuses (a bug: the write it belongs to fails). */
export class EventContractError extends Error {
  override readonly name = "EventContractError";
}

function onlyVersion(type: CatalogEventType): number {
  if (!Object.hasOwn(EventCatalog, type)) throw new EventContractError(`${String(type).slice(0, 100)} is not in the event catalog`);
  const versions = Object.keys(EventCatalog[type]).map(Number);
  if (versions.length !== 1 || versions[0] === undefined) throw new EventContractError(`${type} has several versions: pass one`);
  return versions[0];
}

/**
 * Publishes an event directly to JetStream and waits for the ack (for events not tied to a
 * Postgres write; those go through the outbox). The event id is the message id (de-duplication).
 */
export async function publishEvent(js: JetStreamClient, subjects: Subjects, event: AuthEvent): Promise<void> {
  const subject = subjects.event(event.type);
  await inMessagingSpan("publish", subject, {}, async () => {
    await js.publish(subject, JSON.stringify(event), { msgID: event.id, timeout: 3_000, headers: injectNatsHeaders(headers()) });
  });
}

/**
 * A NATS request (request/reply to another service) with the trace context and request id in
 * its headers, in a client span.
 */
export async function natsRequest(nc: NatsConnection, subject: string, payload: string, opts: { timeout: number }): Promise<Msg> {
  return inMessagingSpan("send", subject, {}, () =>
    nc.request(subject, payload, { timeout: opts.timeout, headers: injectNatsHeaders(headers()) }),
  );
}

/**
 * Runs a NATS responder's or subscriber's handler for `msg` in a server/consumer span that
 * continues the sender's trace, under the sender's request id.
 */
export function handleNatsMessage<T>(msg: Msg, fn: () => Promise<T>): Promise<T> {
  const { ctx, reqId } = extractNatsHeaders(msg.headers);
  return inMessagingSpan("process", msg.subject, { parent: ctx, reqId }, fn);
}
