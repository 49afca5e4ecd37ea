import type { TestIsolation } from "@authplane/service-kit/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type AdminKeyTestHandle, startAdminKeyForTest } from "../../src/testing.js";

/**
 * One admin-key (and, with `nats`, a NATS connection of the test's own) for a test file: started
 * before its tests, stopped and cleaned up after them. `ready` gets the handles once started.
 */
export function useAdminKey(
  iso: TestIsolation,
  ready: (h: { admin: AdminKeyTestHandle; nc: NatsConnection | null }) => void,
  opts: { nats?: boolean } = {},
): void {
  let admin: AdminKeyTestHandle | undefined;
  let nc: NatsConnection | null = null;
  beforeAll(async () => {
    admin = await startAdminKeyForTest(iso);
    if (opts.nats) nc = await connect({ servers: iso.natsUrl });
    ready({ admin, nc });
  });
  afterAll(async () => {
    await nc?.close();
    await admin?.stop();
    await iso.cleanup();
  });
}
