import { z } from "zod";
import { catalogEntries, eventEnvelopeSchema, LookupCatalog, LookupUnavailableReply, type LookupName } from "./event-catalog.js";
import { EventEnvelope } from "./events.js";
import { StreamNames, SubjectNames } from "./subjects.js";

export interface AsyncApiOptions {
  /** NATS server named in the document (default `localhost:4222`). */
  natsHost?: string;
  /** Document version (default `1.0.0`). */
  version?: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * A payload's JSON Schema as a subscriber should read it: `io: "input"`, so objects do not forbid
 * unknown properties (a version may gain optional fields) and fields with a default are optional;
 * draft-07, the dialect AsyncAPI's default schema format extends.
 */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-07",
    io: "input",
    unrepresentable: "any",
    // zod names some checks as formats JSON Schema does not define (`starts_with`); their
    // `pattern` says the same thing in a form every validator reads.
    override: ({ jsonSchema: s }) => {
      if (typeof s.format === "string" && !STANDARD_FORMATS.has(s.format)) delete s.format;
    },
  }) as JsonSchema;
  return rest;
}

/** The `format` values of JSON Schema draft-07. */
const STANDARD_FORMATS = new Set([
  "date-time",
  "date",
  "time",
  "email",
  "idn-email",
  "hostname",
  "idn-hostname",
  "ipv4",
  "ipv6",
  "uri",
  "uri-reference",
  "iri",
  "iri-reference",
  "uri-template",
  "json-pointer",
  "relative-json-pointer",
  "regex",
]);

/** Message ids are `<type>_v<envelope version>`, e.g. `keys.v1.rotated_v1`. */
export function asyncApiMessageId(type: string, version: number): string {
  return `${type}_v${version}`;
}

/**
 * The AsyncAPI 3.0 document of everything the services put on NATS, generated from the event
 * catalog: one channel per event type (address `auth.<type>` on the AUTH_EVENTS stream, or
 * `otp.v1.requested` on OTP_REQUESTS), one message per envelope version whose payload is the
 * whole envelope with `type`, `version` and `data` fixed, and the request/reply lookups admin-key
 * answers. Subjects are the production ones (no test prefix).
 */
export function asyncApiDocument(opts: AsyncApiOptions = {}): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const msgIdHeader = {
    type: "object",
    properties: {
      "Nats-Msg-Id": {
        type: "string",
        description: "The envelope's `id`: JetStream drops a re-published copy within the duplicate window.",
      },
    },
  };

  const byType = new Map<string, ReturnType<typeof catalogEntries>>();
  for (const e of catalogEntries()) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);
  for (const [type, versions] of byType) {
    const first = versions[0];
    if (!first) continue;
    const stream = first.entry.stream === "otp" ? StreamNames.otp : StreamNames.events;
    const address = first.entry.stream === "otp" ? type : `${SubjectNames.eventsPrefix}${type}`;
    const channelMessages: Record<string, unknown> = {};
    for (const { version, entry } of versions) {
      const id = asyncApiMessageId(type, version);
      messages[id] = {
        name: id,
        title: `${type} (envelope version ${version})`,
        summary: entry.summary,
        contentType: "application/json",
        headers: msgIdHeader,
        payload: jsonSchema(eventEnvelopeSchema(type, version) as z.ZodType),
        "x-publisher": entry.publisher,
      };
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
    }
    channels[type] = {
      address,
      title: type,
      description: `${first.entry.summary} JetStream stream ${stream}; published by ${first.entry.publisher}.`,
      messages: channelMessages,
      "x-jetstream-stream": stream,
    };
    operations[`publish.${type}`] = {
      action: "send",
      title: `${first.entry.publisher} publishes ${type}`,
      channel: { $ref: `#/channels/${type}` },
      messages: Object.keys(channelMessages).map((id) => ({ $ref: `#/channels/${type}/messages/${id}` })),
    };
  }

  for (const [subject, lookup] of Object.entries(LookupCatalog) as Array<[LookupName, (typeof LookupCatalog)[LookupName]]>) {
    const requestId = `${subject}.request`;
    const replyId = `${subject}.reply`;
    messages[requestId] = { name: requestId, contentType: "application/json", payload: jsonSchema(lookup.request) };
    messages[replyId] = {
      name: replyId,
      contentType: "application/json",
      summary: 'The reply, or `{error: "unavailable"}` when the responder cannot read its database.',
      payload: jsonSchema(z.union([lookup.reply, LookupUnavailableReply])),
    };
    channels[subject] = {
      address: subject,
      title: subject,
      description: `${lookup.summary} Core NATS request/reply (queue group ${lookup.responder}).`,
      messages: { request: { $ref: `#/components/messages/${requestId}` } },
    };
    // The reply goes to the requester's inbox: an address only known at run time.
    channels[`${subject}.reply`] = {
      address: null,
      title: `${subject} reply`,
      messages: { reply: { $ref: `#/components/messages/${replyId}` } },
    };
    operations[`answer.${subject}`] = {
      action: "receive",
      title: `${lookup.responder} answers ${subject}`,
      channel: { $ref: `#/channels/${subject}` },
      messages: [{ $ref: `#/channels/${subject}/messages/request` }],
      bindings: { nats: { queue: lookup.responder, bindingVersion: "0.1.0" } },
      reply: {
        channel: { $ref: `#/channels/${subject}.reply` },
        messages: [{ $ref: `#/channels/${subject}.reply/messages/reply` }],
      },
    };
  }

  return {
    asyncapi: "3.0.0",
    info: {
      title: "authplane events",
      version: opts.version ?? "1.0.0",
      description:
        "What the authplane services publish on NATS for internal subscribers: auth events on the AUTH_EVENTS JetStream stream " +
        "(subjects `auth.<type>`, every message an EventEnvelope with the event id as Nats-Msg-Id), the OTP delivery jobs, and " +
        "the lookups admin-key answers. Generated from the event catalog in @authplane/contracts.",
    },
    defaultContentType: "application/json",
    servers: {
      nats: { host: opts.natsHost ?? "localhost:4222", protocol: "nats", description: "The NATS server (JetStream enabled)." },
    },
    channels,
    operations,
    components: {
      schemas: { EventEnvelope: jsonSchema(EventEnvelope) },
      messages,
    },
  };
}
