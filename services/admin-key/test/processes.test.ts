import { type ChildProcess, spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestIsolation, eventually } from "@authplane/service-kit/testing";
import pg from "pg";

/**
 * Real processes: two admin-key instances (`node dist/main.js`) starting at once against one
 * fresh schema, and a third process verifying keys over real NATS. Needs `tsc -b` to have built dist.
 */
const iso = createTestIsolation();
const serviceDir = fileURLToPath(new URL("..", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/verify-key.mjs", import.meta.url));
const operatorToken = "process-test-operator-token-0123456789";
const children: ChildProcess[] = [];
const ports = [41000 + Math.floor(Math.random() * 2000), 43000 + Math.floor(Math.random() * 2000)];

function startInstance(port: number): ChildProcess {
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: serviceDir,
    env: { ...process.env, ...iso.env("admin_key"), PORT: String(port), HOST: "127.0.0.1", OPERATOR_TOKEN: operatorToken },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function verifyInAnotherProcess(keys: string[]): Promise<Array<{ reply: unknown }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, iso.natsUrl, iso.natsSubjectPrefix, iso.natsStreamSuffix], {
      cwd: serviceDir,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`verifier exited ${code}: ${err}`));
      resolve(
        out
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      );
    });
    child.stdin.end(keys.join("\n"));
  });
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await iso.cleanup();
});

describe("admin-key as real processes", () => {
  it("two instances starting at once: migrations applied once, both ready and serving; verify from another process", async () => {
    const [a, b] = ports.map(startInstance) as [ChildProcess, ChildProcess];
    for (const port of ports) {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000, 100);
    }
    const db = new pg.Client({ connectionString: iso.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT migration_name FROM "${iso.schema("admin_key")}"."_prisma_migrations"`);
      const folders = (await readdir(path.join(serviceDir, "prisma", "migrations"), { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
      expect(folders).toEqual(expect.arrayContaining(["20261122060000_settings_per_mode", "20261202090300_session_lifetime"]));
      expect(rows.map((r) => r.migration_name).sort()).toEqual(folders);
    } finally {
      await db.end();
    }

    const created = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/organizations`, {
      method: "POST",
      headers: { Authorization: `Bearer ${operatorToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Two Instances" }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      organization: { id: string };
      keys: { secret: { test: string }; publishable: { live: string } };
    };
    const viaB = await fetch(`http://127.0.0.1:${ports[1]}/api/v1/keys`, { headers: { Authorization: `Bearer ${body.keys.secret.test}` } });
    expect(viaB.status).toBe(200);
    const got = await fetch(`http://127.0.0.1:${ports[1]}/api/v1/organizations/${body.organization.id}`, {
      headers: { Authorization: `Bearer ${operatorToken}` },
    });
    expect(got.status).toBe(200);

    // keys.v1.verify from a separate process over real NATS (the queue group spreads requests over both instances).
    const replies = await verifyInAnotherProcess([body.keys.publishable.live, body.keys.secret.test, `pk_live_${"Z".repeat(32)}`]);
    expect(replies[0]?.reply).toMatchObject({ valid: true, organizationId: body.organization.id, mode: "live", kind: "publishable" });
    expect(replies[1]?.reply).toMatchObject({ valid: true, organizationId: body.organization.id, mode: "test", kind: "secret" });
    expect(replies[2]?.reply).toBeNull();

    // Graceful shutdown on SIGTERM.
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
  }, 60_000);

  it("refuses to start in production without a strong OPERATOR_TOKEN, naming the variable", async () => {
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: serviceDir,
      env: { ...process.env, ...iso.env("admin_key"), NODE_ENV: "production", OPERATOR_TOKEN: "short", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
    });
    expect(await exited(child)).not.toBe(0);
    expect(err).toContain("OPERATOR_TOKEN");
  });
});
