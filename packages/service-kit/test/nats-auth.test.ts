import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { z } from "zod";
import { BaseEnv, ConfigError, natsAuthProblems, parseEnv, redactConfig } from "../src/env.js";
import { AUTHPLANE_SERVICES, natsPermissions, natsSecretVariable, natsServerConfig } from "../src/nats-authz.js";
import { connectNats, natsAuthOptions } from "../src/nats.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

describe("the shipped NATS authorisation", () => {
  test("infra/nats/nats-server.conf is exactly what the generator writes (regenerate: node infra/nats/generate.mjs)", () => {
    expect(readFileSync(path.join(ROOT, "infra/nats/nats-server.conf"), "utf8")).toBe(natsServerConfig());
  });

  test("docker-compose runs NATS with it and gives every service its own credentials", () => {
    const compose = readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8");
    expect(compose).toMatch(/\.\/infra\/nats\/nats-server\.conf:\/etc\/nats\/nats-server\.conf:ro/);
    expect(compose).toMatch(/"-c", "\/etc\/nats\/nats-server\.conf"/);
    for (const service of AUTHPLANE_SERVICES) {
      expect(compose).toContain(`${natsSecretVariable(service)}: \${${natsSecretVariable(service)}:-`);
      expect(compose).toContain(`NATS_USER: ${service}`);
      expect(compose).toContain(`NATS_PASSWORD: \${${natsSecretVariable(service)}:-`);
    }
  });

  test("least privilege: one responder, one publisher and one reader of OTP jobs, own events only, own inbox only", () => {
    const perms = natsPermissions();
    const who = (list: "publish" | "subscribe", subject: string) =>
      AUTHPLANE_SERVICES.filter((s) => perms[s][list].includes(subject)).sort();
    expect(who("subscribe", "keys.v1.verify")).toEqual(["admin-key"]);
    expect(AUTHPLANE_SERVICES.filter((s) => perms[s].allowResponses)).toEqual(["admin-key"]);
    expect(who("publish", "otp.v1.requested")).toEqual(["consumer-auth"]);
    expect(who("subscribe", "otp.v1.requested")).toEqual([]);
    expect(who("publish", "$JS.API.CONSUMER.MSG.NEXT.OTP_REQUESTS.otp-delivery")).toEqual(["otp-delivery"]);
    expect(who("publish", "auth.keys.v1.*")).toEqual(["admin-key"]);
    expect(who("publish", "auth.sessions.v1.*")).toEqual(["consumer-auth"]);
    expect(who("publish", "auth.otp.v1.*")).toEqual(["otp-delivery"]);
    expect(who("publish", "auth.credentials.v1.*")).toEqual(["webauthn-credential"]);
    // admin-key reads every service's events (the console's live tail); each service reads its own.
    expect(who("subscribe", "auth.sessions.v1.*")).toEqual(["admin-key", "consumer-auth"]);
    expect(who("subscribe", "auth.otp.v1.*")).toEqual(["admin-key", "otp-delivery"]);
    expect(who("subscribe", "auth.credentials.v1.*")).toEqual(["admin-key", "webauthn-credential"]);
    for (const s of AUTHPLANE_SERVICES) {
      const all = [...perms[s].publish, ...perms[s].subscribe];
      // No wildcard over the whole server, the JetStream API, every inbox or every event.
      for (const broad of [">", "$JS.API.>", "$JS.>", "_INBOX.>", "auth.>"]) expect(all).not.toContain(broad);
      expect(all.some((x) => /MSG\.GET|DIRECT\.GET|\.DELETE\.|\.PURGE\./.test(x))).toBe(false);
      expect(perms[s].subscribe.filter((x) => x.startsWith("_INBOX"))).toEqual([`_INBOX.${s}.>`]);
    }
  });

  test("a subject prefix and stream suffix (test isolation) apply to every subject and stream", () => {
    const perms = natsPermissions({ subjectPrefix: "t1.", streamSuffix: "_T1" });
    expect(perms["admin-key"].subscribe).toContain("t1.keys.v1.verify");
    expect(perms["consumer-auth"].publish).toContain("t1.otp.v1.requested");
    expect(perms["otp-delivery"].publish).toContain("$JS.API.CONSUMER.MSG.NEXT.OTP_REQUESTS_T1.otp-delivery");
    expect(perms["otp-delivery"].publish).not.toContain("$JS.API.CONSUMER.MSG.NEXT.OTP_REQUESTS.otp-delivery");
  });
});

describe("NATS credentials in the environment", () => {
  const Env = BaseEnv.extend({ PORT: z.coerce.number().default(1) });
  const strong = "a-long-random-nats-password-0123456789";

  test("production refuses to start without NATS credentials", () => {
    expect(() => parseEnv(Env, { NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => parseEnv(Env, { NODE_ENV: "production" })).toThrow(/NATS credentials are required in production/);
    for (const creds of [
      { NATS_USER: "admin-key", NATS_PASSWORD: strong },
      { NATS_TOKEN: strong },
      { NATS_NKEY_SEED: new TextDecoder().decode(nkeys.createUser().getSeed()) },
      { NATS_CREDS_FILE: "/run/secrets/admin-key.creds" },
    ])
      expect(parseEnv(Env, { NODE_ENV: "production", ...creds })).toMatchObject(creds);
    // Outside production the machine's unauthenticated NATS is fine.
    expect(parseEnv(Env, {}).NATS_USER).toBe("");
  });

  test("refuses the development passwords, short secrets, half a user, two mechanisms and half a client certificate", () => {
    expect(() => parseEnv(Env, { NODE_ENV: "production", NATS_USER: "a", NATS_PASSWORD: "dev-only-nats-admin-key" })).toThrow(
      /NATS_PASSWORD: the development default/,
    );
    expect(() => parseEnv(Env, { NODE_ENV: "production", NATS_TOKEN: "short" })).toThrow(/NATS_TOKEN: must be at least 16/);
    expect(natsAuthProblems({ NATS_USER: "a" })).toEqual(["NATS_PASSWORD: required with NATS_USER"]);
    expect(natsAuthProblems({ NATS_USER: "a", NATS_PASSWORD: strong, NATS_TOKEN: strong })[0]).toMatch(/only one NATS credential/);
    expect(natsAuthProblems({ NATS_NKEY_SEED: "not-a-seed" })[0]).toMatch(/NATS_NKEY_SEED/);
    expect(natsAuthProblems({ NATS_TLS_CERT_FILE: "/c.pem" })[0]).toMatch(/NATS_TLS_KEY_FILE/);
  });

  test("credentials never reach the start-up log", () => {
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    const env = parseEnv(Env, { NATS_USER: "admin-key", NATS_PASSWORD: strong, NATS_URL: "nats://u:pw-in-url@nats:4222" });
    const logged = JSON.stringify(redactConfig({ ...env, NATS_TOKEN: strong, NATS_NKEY_SEED: seed }));
    expect(logged).not.toContain(strong);
    expect(logged).not.toContain(seed);
    expect(logged).not.toContain("pw-in-url");
    expect(logged).toContain('"NATS_USER":"admin-key"');
  });

  test("maps each mechanism and the TLS files to the client's options", () => {
    expect(natsAuthOptions({ NATS_USER: "u", NATS_PASSWORD: "p" })).toEqual({ user: "u", pass: "p" });
    expect(natsAuthOptions({ NATS_TOKEN: "t" })).toEqual({ token: "t" });
    expect(typeof natsAuthOptions({ NATS_NKEY_SEED: "SU" }).authenticator).toBe("function");
    expect(typeof natsAuthOptions({ NATS_CREDS_FILE: "/x.creds" }).authenticator).toBe("function");
    expect(natsAuthOptions({ NATS_TLS_CA_FILE: "/ca.pem", NATS_TLS_CERT_FILE: "/c.pem", NATS_TLS_KEY_FILE: "/k.pem" })).toEqual({
      tls: { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" },
    });
    expect(natsAuthOptions({})).toEqual({});
  });
});

describe("a private nats-server: NKey users over mutual TLS, with a generated prefixed configuration", () => {
  let dir = "";
  let server: ChildProcess;
  let log = "";
  let url = "";
  const users = Object.fromEntries(AUTHPLANE_SERVICES.map((s) => [s, nkeys.createUser()]));
  const seedOf = (s: string) => new TextDecoder().decode(users[s]?.getSeed());
  const tlsFiles = () => ({
    NATS_TLS_CA_FILE: path.join(dir, "ca.pem"),
    NATS_TLS_CERT_FILE: path.join(dir, "client.pem"),
    NATS_TLS_KEY_FILE: path.join(dir, "client.key"),
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "authplane-nats-tls-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    ssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=authplane-test-ca",
    );
    for (const [name, ext] of [
      ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"],
      ["client", "extendedKeyUsage=clientAuth\n"],
    ] as const) {
      writeFileSync(path.join(dir, `${name}.ext`), ext);
      ssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      );
      ssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
      );
    }
    writeFileSync(path.join(dir, "nats.conf"), natsServerConfig({ auth: "nkey", subjectPrefix: "tq.", streamSuffix: "_TQ" }));
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    url = `nats://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "" };
    for (const s of AUTHPLANE_SERVICES) env[natsSecretVariable(s, "nkey")] = users[s]?.getPublicKey();
    server = spawn(
      NATS_SERVER,
      [
        "-c",
        "nats.conf",
        "-a",
        "127.0.0.1",
        "-p",
        String(port),
        "--tlsverify",
        "--tlscert",
        "server.pem",
        "--tlskey",
        "server.key",
        "--tlscacert",
        "ca.pem",
      ],
      { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    for (const s of [server.stdout, server.stderr])
      s?.on("data", (d: Buffer) => {
        log += d.toString();
      });
    const deadline = Date.now() + 10_000;
    while (!log.includes("Server is ready")) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 30_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("a service connects with its seed and client certificate and gets exactly its subjects", async () => {
    const nc = await connectNats(url, "consumer-auth", { auth: { NATS_NKEY_SEED: seedOf("consumer-auth"), ...tlsFiles() } });
    try {
      const errors: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error?.message));
      })();
      nc.publish("tq.keys.v1.verify", "{}");
      nc.publish("tq.otp.v1.requested", "{}");
      nc.publish("tq.auth.keys.v1.revoked", "{}");
      await nc.flush();
      await new Promise((r) => setTimeout(r, 200));
      expect(errors).toEqual(['Permissions Violation for Publish to "tq.auth.keys.v1.revoked"']);
    } finally {
      await nc.close();
    }
  });

  test("another seed, no client certificate, or no TLS at all is refused", async () => {
    const stranger = new TextDecoder().decode(nkeys.createUser().getSeed());
    await expect(connectNats(url, "rogue", { auth: { NATS_NKEY_SEED: stranger, ...tlsFiles() } })).rejects.toThrow(
      /Authorization Violation/i,
    );
    await expect(
      connectNats(url, "rogue", { auth: { NATS_NKEY_SEED: seedOf("admin-key"), NATS_TLS_CA_FILE: tlsFiles().NATS_TLS_CA_FILE } }),
    ).rejects.toThrow();
    await expect(connectNats(url, "rogue", { auth: { NATS_NKEY_SEED: seedOf("admin-key") } })).rejects.toThrow();
  });
});
