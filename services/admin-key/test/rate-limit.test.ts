import { createTestIsolation } from "@authplane/service-kit/testing";
import { request } from "./support/harness.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";

const iso = createTestIsolation();
let admin: AdminKeyTestHandle;

beforeAll(async () => {
  admin = await startAdminKeyInProcess(iso, { env: { RATE_LIMIT_IP_PER_MINUTE: "8", RATE_LIMIT_KEY_PER_MINUTE: "4" } });
});
afterAll(async () => {
  await admin?.stop();
  await iso.cleanup();
});

describe("rate limits", () => {
  it("limit per key, then per IP, with 429, Retry-After and the seed's error shape", async () => {
    const a = await admin.createOrganization({ name: "A" });
    const b = await admin.createOrganization({ name: "B" });
    const get = (key: string) => request(admin.app).get("/api/v1/keys").set("Authorization", `Bearer ${key}`);

    for (let i = 0; i < 4; i++) await get(a.keys.secret.live).expect(200);
    const limited = await get(a.keys.secret.live);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(limited.body).toMatchObject({ error: "rate_limited", message: expect.any(String) });

    // Another key still has its own budget, until the IP's budget (8) runs out.
    for (let i = 0; i < 3; i++) await get(b.keys.secret.live).expect(200);
    const byIp = await get(b.keys.secret.live);
    expect(byIp.status).toBe(429);
    expect(byIp.headers["retry-after"]).toBeDefined();
    // Unauthenticated guessing is throttled by IP too.
    const guess = await request(admin.app)
      .get("/api/v1/keys")
      .set("Authorization", `Bearer sk_live_${"x".repeat(32)}`);
    expect(guess.status).toBe(429);
  });
});
