import type { AdminKeyTestHandle, CreatedOrganization } from "@authplane/admin-key/testing";
import { startAdminKeyForTest } from "@authplane/admin-key/testing";
import type { TestIsolation } from "@authplane/service-kit/testing";

export type OrgForTest = CreatedOrganization;
export type AdminForTest = AdminKeyTestHandle;

/** The real admin-key, in-process on the same isolation (answers keys.v1.verify over NATS). */
export function startAdmin(iso: TestIsolation): Promise<AdminForTest> {
  return startAdminKeyForTest(iso);
}
