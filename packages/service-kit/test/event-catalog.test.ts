/**
 * The event catalog (contracts) as publishers and subscribers use it: newEvent is typed and
 * validated by it, parseEvent parses by (type, version), and every event type has an entry.
 * The `@ts-expect-error` lines are checked by the test typecheck (tsconfig.test.json): if a wrong
 * payload ever typechecks, that typecheck fails.
 */
import {
  catalogEntries,
  EventCatalog,
  EventType,
  KeyRotatedData,
  OTP_REQUESTED_TYPE,
  OTP_REQUESTED_VERSION,
  parseEvent,
  parseEventMessage,
} from "@authplane/contracts";
import { EventContractError, newEvent, newEventId } from "../src/nats.js";

const scope = { organizationId: "org_1", mode: "live" as const };
const rotated = {
  keyId: "key_old",
  organizationId: "org_1",
  kind: "secret" as const,
  mode: "live" as const,
  expiresAt: "2026-12-02T12:00:00.000Z",
  replacedByKeyId: "key_new",
};

test("every event type has a catalog entry, and the catalog has no type the services do not name", () => {
  const catalogued = new Set(catalogEntries().map((e) => e.type));
  expect([...catalogued].sort()).toEqual([...Object.values(EventType), OTP_REQUESTED_TYPE].sort());
  expect(Object.keys(EventCatalog[OTP_REQUESTED_TYPE])).toEqual([String(OTP_REQUESTED_VERSION)]);
});

test("keys.v1.rotated carries replacedByKeyId (the field admin-key publishes)", () => {
  const ev = newEvent(EventType.keyRotated, scope, rotated);
  expect(ev.data.replacedByKeyId).toBe("key_new");
  expect(KeyRotatedData.safeParse({ ...rotated, replacedByKeyId: undefined }).success).toBe(false);
});

test("newEvent parses data with the catalog's schema: a payload that drifted is refused before it is published", () => {
  // @ts-expect-error keys.v1.revoked needs organizationId, kind, mode and expiresAt
  expect(() => newEvent(EventType.keyRevoked, scope, { keyId: "key_1" })).toThrow(EventContractError);
  // @ts-expect-error kind is "publishable" or "secret"
  expect(() => newEvent(EventType.keyRotated, scope, { ...rotated, kind: "admin" })).toThrow(/keys\.v1\.rotated v1: kind: invalid_value/);
  // @ts-expect-error a type that is not in the catalog
  expect(() => newEvent("keys.v1.exploded", scope, {})).toThrow(EventContractError);
  // @ts-expect-error otp.v1.requested has envelope version 2 only
  expect(() => newEvent(OTP_REQUESTED_TYPE, scope, {}, { version: 1 })).toThrow(EventContractError);
  const unknownField = { ...rotated, replacesKeyId: "key_x" };
  // Unknown fields are not published (subscribers read only what the contract names).
  expect(newEvent(EventType.keyRotated, scope, unknownField).data).toEqual(rotated);
});

test("the error of a refused payload names fields and rules, never a value", () => {
  const secret = "person@example.com";
  try {
    // @ts-expect-error kind must be guest or registered
    newEvent(EventType.consumerCreated, scope, { consumerId: "cons_1", kind: secret, email: secret });
    throw new Error("not refused");
  } catch (err) {
    expect(err).toBeInstanceOf(EventContractError);
    expect((err as Error).message).toContain("kind");
    expect((err as Error).message).not.toContain(secret);
  }
});

test("parseEvent dispatches on (type, version) and refuses what the catalog does not describe", () => {
  const ev = newEvent(EventType.keyRotated, scope, rotated);
  const parsed = parseEventMessage(JSON.stringify(ev));
  if (!parsed.success) throw new Error(parsed.error);
  if (parsed.event.type !== EventType.keyRotated) throw new Error(`narrowed to ${parsed.event.type}`);
  expect(parsed.event.data.replacedByKeyId).toBe("key_new");

  expect(parseEvent({ ...ev, version: 2 })).toEqual({ success: false, error: "not in the event catalog: keys.v1.rotated version 2" });
  expect(parseEvent({ ...ev, type: "keys.v1.exploded" }).success).toBe(false);
  const noReplacement = parseEvent({ ...ev, data: { ...rotated, replacedByKeyId: undefined } });
  expect(noReplacement).toEqual({ success: false, error: "keys.v1.rotated v1: data.replacedByKeyId: invalid_type" });
  expect(parseEvent({ ...ev, id: "nope" })).toEqual({ success: false, error: "envelope: id: invalid_format" });
  expect(parseEventMessage("{not json")).toEqual({ success: false, error: "not JSON" });
  // A newer publisher's extra optional field does not break an older subscriber.
  expect(parseEvent({ ...ev, data: { ...rotated, addedLater: true } }).success).toBe(true);
  expect(newEventId()).toMatch(/^evt_[0-9A-Z]{26}$/);
});
