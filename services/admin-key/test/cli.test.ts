import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestIsolation } from "@authplane/service-kit/testing";
import pg from "pg";

/**
 * authctl as operators run it: a separate process against Postgres (needs `tsc -b` first). Each run
 * is a Node start-up (about 1.5 s of CPU), so a test of a dozen runs gets a generous jest timeout:
 * on a loaded two-core machine a run takes 5-9 s of wall time. Nothing here asserts a duration.
 */
const iso = createTestIsolation();
const serviceDir = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env, ...iso.env("admin_key") };

function authctl(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["dist/cli.js", ...args], { cwd: serviceDir, env, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => iso.cleanup());

describe("authctl", () => {
  it("org create prints the id and four keys; keys list shows prefixes only; rotate and revoke", () => {
    const created = authctl(
      "org",
      "create",
      "Acme",
      "--rp-id",
      "acme.example",
      "--origin",
      "https://acme.example",
      "--allowed-origin",
      "https://Acme.Example/",
    );
    expect(created.status).toBe(0);
    // Consumer API browser origins, normalised, in both modes.
    expect(created.stdout).toMatch(/live allowed origins\s+https:\/\/acme\.example\n/);
    expect(created.stdout).toMatch(/test allowed origins\s+https:\/\/acme\.example\n/);
    const orgId = /organization\s+(org_[0-9A-Z]{26})/.exec(created.stdout)?.[1];
    expect(orgId).toBeDefined();
    const keys = created.stdout.match(/[ps]k_(live|test)_[0-9A-Za-z]{32}/g) ?? [];
    expect(new Set(keys).size).toBe(4);
    // Each secret key is also shown in the passkey server SDKs' form, on the line below it.
    for (const mode of ["live", "test"]) {
      const sk = new RegExp(`secret ${mode}\\s+(sk_${mode}_[0-9A-Za-z]{32})\\n\\s+(\\S+)`).exec(created.stdout);
      expect(sk?.[2]).toBe(`secret_${sk?.[1]}`);
    }

    expect(authctl("org", "list").stdout).toContain(orgId);
    const list = authctl("keys", "list", orgId as string);
    expect(list.status).toBe(0);
    expect(list.stdout.trim().split("\n")).toHaveLength(4);
    for (const k of keys) expect(list.stdout).not.toContain(k);
    // One publishable and one secret key: two different keys whatever order the list has.
    const keyId = /^(key_[0-9A-Z]{26})\s+pk_/m.exec(list.stdout)?.[1] as string;
    const secretKeyId = /^(key_[0-9A-Z]{26})\s+sk_/m.exec(list.stdout)?.[1] as string;

    const rotated = authctl("keys", "rotate", keyId, "--expires-in", "60");
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/new key\s+key_[0-9A-Z]{26}\s+pk_(live|test)_[0-9A-Za-z]{32}/);
    // A rotated secret key is shown in the passkey server SDKs' form too.
    const rotatedSecret = authctl("keys", "rotate", secretKeyId, "--expires-in", "0");
    expect(rotatedSecret.stdout).toMatch(/new key\s+key_[0-9A-Z]{26}\s+(sk_(live|test)_[0-9A-Za-z]{32})\n\s+secret_\1\s/);
    expect(authctl("keys", "revoke", keyId).stdout).toContain("revoked at");
    expect(authctl("keys", "list", orgId as string).stdout).toMatch(new RegExp(`${keyId}.*revoked`));
    const missing = authctl("keys", "revoke", "key_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("No such key");
    expect(authctl("keys", "rotate", keyId, "--expires-in", "-5").status).not.toBe(0);
  }, 180_000);

  it("dev-org is idempotent and replaces an organization whose keys no longer verify", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "authctl-")), "nested", "dev-org.json");
    expect(authctl("dev-org", "--file", file).status).toBe(0);
    const first = JSON.parse(readFileSync(file, "utf8"));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toMatchObject({ organization: { id: expect.stringMatching(/^org_/), name: "Development" } });
    expect(first.keys.secret.test).toMatch(/^sk_test_/);

    const again = authctl("dev-org", "--file", file);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe("");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(first);

    const db = new pg.Client({ connectionString: iso.databaseUrl });
    await db.connect();
    try {
      const s = await db.query(
        `SELECT * FROM "${iso.schema("admin_key")}"."organization_settings" WHERE organization_id = $1 ORDER BY mode`,
        [first.organization.id],
      );
      // Settings are per mode: both modes get the local relying party.
      expect(s.rows.map((r) => r.mode)).toEqual(["live", "test"]);
      for (const row of s.rows)
        expect(row).toMatchObject({
          webauthn_rp_id: "localhost",
          webauthn_rp_name: "Authplane Dev",
          webauthn_origins: ["http://localhost:8080"],
          // The demos may call the consumer API across the gateway's two local names.
          allowed_origins: ["http://localhost:8080", "http://127.0.0.1:8080"],
        });
      // An existing dev organization missing the dev origins (made before them, or trimmed by
      // hand) gets them back, plus any --allowed-origin, and keeps its keys and its other origins.
      await db.query(
        `UPDATE "${iso.schema("admin_key")}"."organization_settings" SET allowed_origins = ARRAY['https://mine.example'] WHERE organization_id = $1 AND mode = 'test'`,
        [first.organization.id],
      );
      expect(authctl("dev-org", "--file", file, "--allowed-origin", "http://localhost:5173").status).toBe(0);
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(first);
      const after = await db.query(
        `SELECT mode, allowed_origins FROM "${iso.schema("admin_key")}"."organization_settings" WHERE organization_id = $1 ORDER BY mode`,
        [first.organization.id],
      );
      expect(after.rows).toEqual([
        { mode: "live", allowed_origins: ["http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:5173"] },
        {
          mode: "test",
          allowed_origins: ["https://mine.example", "http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:5173"],
        },
      ]);
      await db.query(
        `UPDATE "${iso.schema("admin_key")}"."api_keys" SET revoked_at = now() WHERE organization_id = $1 AND kind = 'secret'`,
        [first.organization.id],
      );
    } finally {
      await db.end();
    }
    expect(authctl("dev-org", "--file", file).status).toBe(0);
    const replaced = JSON.parse(readFileSync(file, "utf8"));
    expect(replaced.organization.id).not.toBe(first.organization.id);
  }, 180_000);
});
