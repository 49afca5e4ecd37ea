import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { request } from "./support/harness.js";
import type { AppDeps } from "../src/deps.js";
import type { TailEvent } from "../src/events/tail.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";

/** The console's live tail: every service's events, per organization. */
const iso = createTestIsolation();
let admin: AdminKeyTestHandle & { deps: AppDeps };
let nc: NatsConnection;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso);
  nc = await connect({ servers: iso.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await admin?.stop();
  await iso.cleanup();
});

/** An event as consumer-auth publishes it (same envelope, same subject). */
function publish(
  type: string,
  organizationId: string | null,
  mode: "live" | "test" | null,
  data: Record<string, unknown> = {},
  id = `evt_${Math.random().toString(36).slice(2)}`,
) {
  nc.publish(
    iso.subjects.event(type),
    JSON.stringify({ id, type, version: 1, occurredAt: new Date().toISOString(), organizationId, mode, data }),
  );
  return id;
}

describe("the event tail", () => {
  it("sees admin-key's own events as they are published (an organization created through the operator API)", async () => {
    const org = await admin.createOrganization({ name: "Tail Org" });
    const events = await eventually(() => {
      const seen = admin.deps.eventTail.recent(org.organization.id);
      return seen.some((e) => e.type === "organizations.v1.created") ? seen : null;
    });
    expect(events?.find((e) => e.type === "organizations.v1.created")?.organizationId).toBe(org.organization.id);
  });

  it("gives a listener its organization's events only, in order, once each; drops malformed and organization-less messages", async () => {
    const a = await admin.createOrganization({ name: "Tail A" });
    const b = await admin.createOrganization({ name: "Tail B" });
    const orgA = a.organization.id;
    // Its creation's own events (organization, four keys) first, so they are not counted below.
    await eventually(() => admin.deps.eventTail.recent(orgA).filter((e) => e.type === "keys.v1.created").length === 4);
    const got: TailEvent[] = [];
    const stop = admin.deps.eventTail.listen(orgA, (e) => got.push(e));
    publish("sessions.v1.created", b.organization.id, "test", { sessionId: "ses_b" });
    nc.publish(iso.subjects.event("sessions.v1.created"), "{not json");
    nc.publish(iso.subjects.event("sessions.v1.created"), JSON.stringify({ id: "nope", organizationId: orgA }));
    publish("otp.v1.delivered", null, null);
    const first = publish("sessions.v1.created", orgA, "test", { sessionId: "ses_a1" });
    publish("sessions.v1.created", orgA, "test", { sessionId: "ses_a1" }, first); // a relay retry: same id
    publish("credentials.v1.deactivated", orgA, "live", { credentialId: "cred_1" });
    await eventually(() => got.length >= 2);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((e) => [e.type, e.mode, e.data])).toEqual([
      ["sessions.v1.created", "test", { sessionId: "ses_a1" }],
      ["credentials.v1.deactivated", "live", { credentialId: "cred_1" }],
    ]);
    const live = admin.deps.eventTail.recent(orgA, "live");
    expect(live.every((e) => e.mode === "live")).toBe(true);
    expect(live.at(-1)?.type).toBe("credentials.v1.deactivated");
    expect(admin.deps.eventTail.recent(b.organization.id).map((e) => e.data)).toContainEqual({ sessionId: "ses_b" });
    stop();
    publish("sessions.v1.revoked", orgA, "test");
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(2);
    // The API still answers: the tail's subscription does not interfere with the responders.
    await request(admin.app)
      .get("/api/v1/organizations")
      .set({ Authorization: `Bearer ${admin.operatorToken}` })
      .expect(200);
  });
});
