import { ApiKeyPattern, parseApiKeyPrefix } from "@authplane/contracts";
import { createTestIsolation } from "@authplane/service-kit/testing";
import pg from "pg";
import { request } from "./support/harness.js";
import { randomBase62 } from "@authplane/service-kit";
import { generateApiKey, hashApiKey, KEY_RANDOM_LENGTH } from "../src/api-key-format.js";
import type { AppDeps } from "../src/deps.js";
import { type AdminKeyTestHandle, startAdminKeyInProcess } from "../src/testing.js";

describe("key format and entropy", () => {
  it("generates prefix + 32 base62 characters per kind and mode, matching the contracts' pattern", () => {
    for (const kind of ["publishable", "secret"] as const) {
      for (const mode of ["live", "test"] as const) {
        const k = generateApiKey(kind, mode);
        const prefix = `${kind === "publishable" ? "pk" : "sk"}_${mode}_`;
        expect(k.value.startsWith(prefix)).toBe(true);
        expect(k.prefix).toBe(prefix);
        expect(k.value).toHaveLength(prefix.length + KEY_RANDOM_LENGTH);
        expect(k.value.slice(prefix.length)).toMatch(/^[0-9A-Za-z]{32}$/);
        expect(k.value).toMatch(ApiKeyPattern);
        expect(parseApiKeyPrefix(k.value)).toEqual({ kind, mode });
        expect(k.last4).toBe(k.value.slice(-4));
        expect(k.hash).toBe(hashApiKey(k.value));
        expect(k.hash).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    // 32 base62 characters carry more than 190 bits.
    expect(KEY_RANDOM_LENGTH * Math.log2(62)).toBeGreaterThan(190);
  });

  it("1000 keys are all distinct and use the whole alphabet evenly (no modulo bias)", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey("secret", "live").value));
    expect(keys.size).toBe(1000);
    // Character frequencies over 62 * 3000 characters: each should be near 3000.
    const counts = new Map<string, number>();
    const sample = randomBase62(62 * 3000);
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Chi-square with 61 degrees of freedom: p = 1e-6 is about 130. A modulo-biased generator
    // (bytes % 62 without rejection) lands above 1000 on this sample.
    let chi = 0;
    for (const c of counts.values()) chi += (c - 3000) ** 2 / 3000;
    expect(chi).toBeLessThan(130);
  });
});

describe("keys at rest", () => {
  const iso = createTestIsolation();
  let admin: AdminKeyTestHandle & { deps: AppDeps };
  beforeAll(async () => {
    admin = await startAdminKeyInProcess(iso);
  });
  afterAll(async () => {
    await admin?.stop();
    await iso.cleanup();
  });

  it("no key string (nor its random part) is readable anywhere in the database", async () => {
    const org = await admin.createOrganization({ name: "At Rest" });
    const res = await request(admin.app)
      .post("/api/v1/organizations")
      .set("Authorization", `Bearer ${admin.operatorToken}`)
      .send({ name: "Via HTTP" });
    expect(res.status).toBe(201);
    const extra = await request(admin.app)
      .post("/api/v1/keys")
      .set("Authorization", `Bearer ${org.keys.secret.live}`)
      .send({ kind: "secret" });
    const rotated = await request(admin.app)
      .post(`/api/v1/keys/${extra.body.key.id}/rotate`)
      .set("Authorization", `Bearer ${org.keys.secret.live}`)
      .send({});
    await admin.deps.relay.flush();
    const secrets: string[] = [
      ...Object.values(org.keys.secret),
      ...Object.values(org.keys.publishable),
      ...Object.values(res.body.keys.secret as Record<string, string>),
      ...Object.values(res.body.keys.publishable as Record<string, string>),
      extra.body.value,
      rotated.body.value,
    ];
    expect(secrets).toHaveLength(10);

    const db = new pg.Client({ connectionString: iso.databaseUrl });
    await db.connect();
    try {
      const schema = iso.schema("admin_key");
      const keyRows = await db.query(`SELECT * FROM "${schema}"."api_keys"`);
      expect(keyRows.rows).toHaveLength(10); // 4 + 4 + created + its replacement
      // Every table, every column, as text.
      const dump: string[] = [];
      for (const table of ["organizations", "organization_settings", "api_keys", "outbox_events"]) {
        const r = await db.query(`SELECT row_to_json(t)::text AS j FROM "${schema}"."${table}" t`);
        dump.push(...r.rows.map((x) => x.j as string));
      }
      const text = dump.join("\n");
      for (const s of secrets) {
        expect(text).not.toContain(s);
        expect(text).not.toContain(s.slice(8)); // the random part alone
        expect(text).not.toContain(s.slice(8, 20));
      }
      expect(text).not.toMatch(/[ps]k_(live|test)_[0-9A-Za-z]{8,}/);
      // What is stored is the SHA-256 and the last four characters only.
      const hashes = new Set(keyRows.rows.map((r) => r.key_hash));
      for (const s of secrets) expect(hashes.has(hashApiKey(s))).toBe(true);
      for (const row of keyRows.rows) expect(row.last4).toHaveLength(4);
    } finally {
      await db.end();
    }
  });
});
