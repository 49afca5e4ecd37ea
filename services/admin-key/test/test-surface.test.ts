import { ApiKeyPattern, EventType, OrgGetReply } from "@authplane/contracts";
import { createLogger, KeyVerifier } from "@authplane/service-kit";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AdminKeyTestHandle } from "../src/testing.js";
import { useAdminKey } from "./support/fixture.js";

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;
let nc: NatsConnection;
const logger = createLogger({ name: "test", level: "silent" });
useAdminKey(
  iso,
  (h) => {
    admin = h.admin;
    nc = h.nc as NatsConnection;
  },
  { nats: true },
);

describe("startAdminKeyForTest (the surface other services use)", () => {
  it("creates an organization with four keys that verify over keys.v1.verify with settings", async () => {
    const created = await admin.createOrganization({
      name: "Acme",
      webauthn: { rpId: "localhost", rpName: "Acme", origins: ["http://localhost:8080"] },
      settings: { accessTokenTtlSeconds: 600 },
    });
    expect(created.organization.id).toMatch(/^org_[0-9A-Z]{26}$/);
    expect(created.organization.name).toBe("Acme");
    const all = [created.keys.publishable.live, created.keys.publishable.test, created.keys.secret.live, created.keys.secret.test];
    for (const k of all) expect(k).toMatch(ApiKeyPattern);
    expect(created.keys.publishable.live.startsWith("pk_live_")).toBe(true);
    expect(created.keys.secret.test.startsWith("sk_test_")).toBe(true);

    const verifier = new KeyVerifier({ nc, subjects: iso.subjects, logger });
    verifier.start();
    await verifier.ready();
    const v = await verifier.verify(created.keys.publishable.test);
    expect(v).toMatchObject({
      valid: true,
      organizationId: created.organization.id,
      organizationName: "Acme",
      mode: "test",
      kind: "publishable",
      expiresAt: null,
      settings: {
        accessTokenTtlSeconds: 600,
        refreshTokenTtlSeconds: 2592000,
        sessionLifetimeSeconds: 2592000,
        webauthn: { rpId: "localhost", rpName: "Acme", origins: ["http://localhost:8080"] },
      },
    });
    expect(await verifier.verify(created.keys.secret.live)).toMatchObject({ mode: "live", kind: "secret" });
    expect(await verifier.verify(`sk_test_${"A".repeat(32)}`)).toBeNull();
    expect(await verifier.verify("garbage")).toBeNull();
    verifier.stop();
  });

  it("answers orgs.v1.get", async () => {
    const created = await admin.createOrganization();
    const msg = await nc.request(iso.subjects.orgGet, JSON.stringify({ organizationId: created.organization.id }), { timeout: 2000 });
    const reply = OrgGetReply.parse(msg.json());
    expect(reply).toEqual({
      found: true,
      organization: { id: created.organization.id, name: created.organization.name },
      settings: {
        accessTokenTtlSeconds: 3600,
        refreshTokenTtlSeconds: 2592000,
        sessionLifetimeSeconds: 2592000,
        webauthn: null,
        allowedOrigins: [],
        smsAllowedCountries: [],
      },
    });
    const missing = await nc.request(iso.subjects.orgGet, JSON.stringify({ organizationId: "org_nope" }), { timeout: 2000 });
    expect(missing.json()).toEqual({ found: false });
  });

  it("relays organizations.v1.created and keys.v1.created to the event stream", async () => {
    const created = await admin.createOrganization({ name: "Evented" });
    const jsm = await jetstreamManager(nc);
    // The relay is asynchronous: wait until this organization's events are in the stream.
    const lastOf = async (type: string) =>
      (await jsm.streams.getMessage(iso.subjects.eventsStream, { last_by_subj: iso.subjects.event(type) }).catch(() => null))?.json<{
        organizationId: string;
        type: string;
        data: Record<string, unknown>;
      }>();
    await eventually(async () => (await lastOf(EventType.keyCreated))?.organizationId === created.organization.id, 5000);
    expect(await lastOf(EventType.organizationCreated)).toMatchObject({
      type: "organizations.v1.created",
      organizationId: created.organization.id,
      data: { name: "Evented", settings: { accessTokenTtlSeconds: 3600 } },
    });
    expect(await lastOf(EventType.keyCreated)).toMatchObject({
      type: "keys.v1.created",
      organizationId: created.organization.id,
      data: { organizationId: created.organization.id },
    });
  });
});
