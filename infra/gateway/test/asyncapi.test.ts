/**
 * GET /asyncapi.json: the AsyncAPI 3.0 document of the event catalog, valid against the official
 * AsyncAPI 3.0.0 JSON Schema (@asyncapi/specs), with a channel and a message for every catalogued
 * event. (That the services' real events validate against it: infra/e2e asyncapi-events test.)
 */
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { asyncApiMessageId, catalogEntries, SubjectNames } from "@authplane/contracts";
import { createGateway } from "../src/main.js";

const require = createRequire(import.meta.url);
const { Ajv } = require("ajv") as typeof import("ajv");
const addFormats = (require("ajv-formats") as { default: typeof import("ajv-formats").default }).default;
const specs = require("@asyncapi/specs") as { schemas: Record<string, object> };

// The spec schema embeds its own copy of the draft-07 meta-schema, so ajv's is left out.
const ajv = new Ajv({ allErrors: true, strict: false, meta: false, validateSchema: false });
addFormats(ajv);
const validateAsyncApi = ajv.compile(specs.schemas["3.0.0"] as object);

type Doc = {
  asyncapi: string;
  channels: Record<string, { address: string | null; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; channel: { $ref: string } }>;
  components: { messages: Record<string, { payload: { properties: Record<string, { const?: unknown }> } }> };
};

let base = "";
let doc: Doc;
let server: ReturnType<typeof createGateway>;

beforeAll(async () => {
  server = createGateway({
    targets: { consumer: "http://127.0.0.1:1", admin: "http://127.0.0.1:1", otp: "http://127.0.0.1:1", webauthn: "http://127.0.0.1:1" },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

test("the gateway serves the AsyncAPI document itself (no upstream) as JSON", async () => {
  const res = await fetch(`${base}/asyncapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  doc = (await res.json()) as Doc;
  expect(doc.asyncapi).toBe("3.0.0");
});

test("the document is valid AsyncAPI 3.0.0 (and the validator does refuse a broken one)", () => {
  expect(validateAsyncApi(doc) ? [] : validateAsyncApi.errors).toEqual([]);
  const broken = structuredClone(doc) as unknown as { operations: Record<string, Record<string, unknown>> };
  const first = Object.values(broken.operations)[0];
  if (first) first.action = "publish"; // AsyncAPI 2 wording: 3.0 knows only send/receive
  expect(validateAsyncApi(broken)).toBe(false);
});

test("every catalogued event has its channel (its subject) and a message fixing its type and version", () => {
  for (const { type, version, entry } of catalogEntries()) {
    const channel = doc.channels[type];
    expect(channel?.address).toBe(entry.stream === "otp" ? type : `${SubjectNames.eventsPrefix}${type}`);
    const id = asyncApiMessageId(type, version);
    expect(channel?.messages[id]).toEqual({ $ref: `#/components/messages/${id}` });
    const payload = doc.components.messages[id]?.payload;
    expect(payload?.properties.type?.const).toBe(type);
    expect(payload?.properties.version?.const).toBe(version);
    expect(doc.operations[`publish.${type}`]).toMatchObject({ action: "send", channel: { $ref: `#/channels/${type}` } });
  }
  const events = Object.values(doc.channels).filter((c) => c.address?.startsWith(SubjectNames.eventsPrefix));
  expect(events).toHaveLength(catalogEntries().filter((e) => e.entry.stream === "events").length);
  for (const lookup of [SubjectNames.keysVerify, SubjectNames.orgGet]) {
    expect(doc.operations[`answer.${lookup}`]).toMatchObject({ action: "receive", channel: { $ref: `#/channels/${lookup}` } });
  }
});
