/**
 * NATS from the attacker's side. A private nats-server (free port, own store, JetStream) runs the
 * SHIPPED authorisation (infra/nats/nats-server.conf, unprefixed production subjects), the REAL
 * built services connect to it with their own credentials, and rogue clients (no credentials, a
 * wrong password, or another service's credentials) try what the services must be protected from:
 * answering key lookups, reading OTP delivery jobs, publishing jobs or another service's events,
 * snooping on replies. The services still work end to end (key lookups, OTP request → delivery →
 * verify), and the server logs no permission violation by a service.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AUTHPLANE_SERVICES,
  type AuthplaneService,
  connectJetStream,
  connectNats,
  DEV_OTP_SEAL_KEYS,
  generateSealKeyPair,
  importSealPublicKey,
  type NatsHandles,
  natsSecretVariable,
  newEventId,
  sealOtpCode,
} from "@authplane/service-kit";
import { createOrganization, freePort, root, type Stack, startStack } from "../src/stack.mjs";

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";
const CONFIG = path.join(root, "infra/nats/nats-server.conf");

let natsProc: ChildProcess;
let natsLog = "";
let natsUrl = "";
let storeDir = "";
// nats-server parses a `$VARIABLE`'s value like a config value: one starting with a digit or `-`
// can be read as a number and stop the server. Starting with a letter, it is always a string.
const passwords = Object.fromEntries(AUTHPLANE_SERVICES.map((s) => [s, `p${randomBytes(24).toString("hex")}`])) as Record<
  AuthplaneService,
  string
>;
let stack: Stack;
let pk = "";
let sk = "";
const rogues: NatsHandles[] = [];

/** A client holding `service`'s credentials, but not the service: what a leaked password or a compromised neighbour can do. */
async function rogueAs(service: AuthplaneService): Promise<NatsHandles> {
  const h = await connectJetStream(natsUrl, `rogue-as-${service}`, {
    service,
    auth: { NATS_USER: service, NATS_PASSWORD: passwords[service] },
  });
  rogues.push(h);
  return h;
}

/** Resolves with the server's error when a subscription is refused, or null when it is still open after 1 s. */
async function subscribeOutcome(h: NatsHandles, subject: string, received: string[] = []): Promise<string | null> {
  const sub = h.nc.subscribe(subject, {
    callback: (err, msg) => {
      if (!err) received.push(msg.subject);
    },
  });
  const refused = await Promise.race([sub.closed.then((e) => (e instanceof Error ? e.message : "closed")), sleep(1_000).then(() => null)]);
  if (refused === null) sub.unsubscribe();
  return refused;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function post(base: string, p: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${p}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json: json as Record<string, unknown> | null, text };
}

async function outbox(to: string): Promise<Array<{ code: string; to: string }>> {
  const res = await fetch(`${stack.urls["otp-delivery"]}/dev/outbox?to=${encodeURIComponent(to)}`);
  const body = (await res.json()) as { messages?: Array<{ code: string; to: string }> };
  return body.messages ?? [];
}

async function waitForOutbox(to: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [m] = await outbox(to);
    if (m) return m.code;
    if (Date.now() > deadline) throw new Error(`nothing delivered to ${to}`);
    await sleep(200);
  }
}

const fakeKey = (prefix: string) => `${prefix}${randomBytes(24).toString("hex")}`;

beforeAll(async () => {
  if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found (set NATS_SERVER_BIN)`);
  storeDir = mkdtempSync(path.join(tmpdir(), "authplane-nats-"));
  const port = await freePort();
  natsUrl = `nats://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "" };
  for (const s of AUTHPLANE_SERVICES) env[natsSecretVariable(s)] = passwords[s];
  natsProc = spawn(NATS_SERVER, ["-c", CONFIG, "-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", String(port)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [natsProc.stdout, natsProc.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (d: string) => {
      natsLog += d;
    });
  }
  const deadline = Date.now() + 10_000;
  while (!natsLog.includes("Server is ready")) {
    if (natsProc.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start:\n${natsLog}`);
    await sleep(50);
  }

  const serviceEnv = (s: AuthplaneService) => ({
    NATS_URL: natsUrl,
    NATS_USER: s,
    NATS_PASSWORD: passwords[s],
    // The shipped configuration is for the production (unprefixed) subjects and streams.
    NATS_SUBJECT_PREFIX: "",
    NATS_STREAM_SUFFIX: "",
  });
  stack = await startStack({
    services: ["admin-key", "consumer-auth", "otp-delivery", "webauthn-credential"],
    env: {
      "admin-key": serviceEnv("admin-key"),
      "consumer-auth": serviceEnv("consumer-auth"),
      "otp-delivery": { ...serviceEnv("otp-delivery"), DELIVERY_TRANSPORT: "dev" },
      "webauthn-credential": serviceEnv("webauthn-credential"),
    },
  });
  const created = await createOrganization(stack.urls["admin-key"] as string, stack.operatorToken, "NATS Authz Org");
  pk = created.keys.publishable.test;
  sk = created.keys.secret.test;
}, 120_000);

afterAll(async () => {
  for (const r of rogues) await r.nc.close().catch(() => {});
  await stack?.stop();
  if (natsProc && natsProc.exitCode === null) {
    natsProc.kill("SIGTERM");
    await new Promise((r) => natsProc.once("exit", r));
  }
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
}, 30_000);

describe("connecting", () => {
  test("a client without credentials, or with a wrong password, is refused", async () => {
    await expect(connectNats(natsUrl, "rogue-anonymous")).rejects.toThrow(/Authorization Violation/i);
    await expect(
      connectNats(natsUrl, "rogue-guess", { auth: { NATS_USER: "admin-key", NATS_PASSWORD: "wrong-password-123456" } }),
    ).rejects.toThrow(/Authorization Violation/i);
    await expect(
      connectNats(natsUrl, "rogue-swap", { auth: { NATS_USER: "admin-key", NATS_PASSWORD: passwords["consumer-auth"] } }),
    ).rejects.toThrow(/Authorization Violation/i);
  });
});

describe("production", () => {
  /** Every production secret of today's services except the NATS credentials. */
  const pair = generateSealKeyPair();
  const productionEnv = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    LOG_LEVEL: "silent",
    PORT: "0",
    HOST: "127.0.0.1",
    NATS_URL: "nats://127.0.0.1:1",
    OPERATOR_TOKEN: randomBytes(24).toString("hex"),
    SIGNING_KEY_ENCRYPTION_KEY: randomBytes(24).toString("hex"),
    OTP_CODE_SECRET: randomBytes(24).toString("hex"),
    DECOY_CREDENTIAL_SECRET: randomBytes(24).toString("hex"),
    USERNAME_HASH_SECRET: randomBytes(24).toString("hex"),
    OTP_SEAL_PUBLIC_KEY: pair.publicKey,
    OTP_SEAL_PRIVATE_KEY: pair.privateKey,
  };
  const run = (service: string, env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(root, "services", service, "dist/main.js")], {
        env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });

  test("every service refuses to start without NATS credentials (exit 78, naming the variable), or with a dev password", async () => {
    for (const service of AUTHPLANE_SERVICES) {
      const bare = await run(service, productionEnv);
      expect({ service, code: bare.code }).toEqual({ service, code: 78 });
      expect(bare.stderr).toMatch(/NATS_USER: NATS credentials are required in production/);
      const dev = await run(service, { ...productionEnv, NATS_USER: service, NATS_PASSWORD: `dev-only-nats-${service}` });
      expect({ service, code: dev.code }).toEqual({ service, code: 78 });
      expect(dev.stderr).toMatch(/NATS_PASSWORD: the development default is refused in production/);
      expect(dev.stderr).not.toContain(`dev-only-nats-${service}`);
    }
  }, 90_000);
});

describe("the services work end to end under their permissions", () => {
  test("key lookups, OTP request → sealed job → delivery → verify, and webauthn's key check", async () => {
    const ca = stack.urls["consumer-auth"] as string;
    const guest = await post(ca, "/api/v1/auth/guest", {}, { "x-publishable-key": pk });
    expect(guest.status).toBe(200);
    expect(await post(ca, "/api/v1/auth/guest", {}, { "x-publishable-key": fakeKey("pk_test_") })).toMatchObject({ status: 401 });

    const email = `authz-${randomBytes(4).toString("hex")}@example.com`;
    expect((await post(ca, "/api/v1/auth/otp/request", { email }, { "x-publishable-key": pk })).status).toBe(200);
    const code = await waitForOutbox(email);
    const verified = await post(ca, "/api/v1/auth/otp/verify", { email, code }, { "x-publishable-key": pk });
    expect(verified.status).toBe(200);

    const wa = stack.urls["webauthn-credential"] as string;
    const found = await post(
      wa,
      "/credential/find",
      { user: { id: "user-1" } },
      { authorization: `Basic ${Buffer.from(`:${sk}`).toString("base64")}` },
    );
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ result: { data: [] } });
  });
});

describe("rogue clients", () => {
  test("only admin-key answers key lookups: a forged {valid: true} never reaches consumer-auth or webauthn", async () => {
    const impostors = AUTHPLANE_SERVICES.filter((s) => s !== "admin-key");
    for (const service of impostors) {
      const rogue = await rogueAs(service);
      // The rogue would answer every lookup with a valid key of a made-up organization.
      const sub = rogue.nc.subscribe("keys.v1.verify", {
        callback: (err, msg) => {
          if (err) return;
          msg.respond(
            JSON.stringify({
              valid: true,
              keyId: "key_forged",
              organizationId: "org_forged",
              organizationName: "Forged",
              mode: "test",
              kind: msg.string().includes("sk_") ? "secret" : "publishable",
              expiresAt: null,
              settings: { accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 86_400, webauthn: null },
            }),
          );
        },
      });
      const refused = await Promise.race([
        sub.closed.then((e) => (e instanceof Error ? e.message : "closed")),
        sleep(1_000).then(() => null),
      ]);
      expect(refused).toMatch(/Permissions Violation for Subscription to "keys.v1.verify"/);
      // The made-up keys stay unknown.
      const guest = await post(
        stack.urls["consumer-auth"] as string,
        "/api/v1/auth/guest",
        {},
        { "x-publishable-key": fakeKey("pk_test_") },
      );
      expect(guest.status).toBe(401);
      const wa = await post(
        stack.urls["webauthn-credential"] as string,
        "/credential/find",
        { user: { id: "victim" } },
        { authorization: `Basic ${Buffer.from(`:${fakeKey("sk_test_")}`).toString("base64")}` },
      );
      // Seed 003's answer for a secret key nobody issued (not the forged organization's data).
      expect({ status: wa.status, result: wa.json?.result, errors: wa.json?.errors }).toEqual({
        status: 400,
        result: null,
        errors: [expect.objectContaining({ code: "SecretKeyNotFound" })],
      });
      // Nor can it answer in admin-key's queue group, or the org lookup.
      expect(await subscribeOutcome(rogue, "orgs.v1.get")).toMatch(/Permissions Violation/);
    }
  });

  test("nobody but otp-delivery reads OTP jobs: no stream read, no consumer, no core subscription, no inbox snooping", async () => {
    const email = `stream-${randomBytes(4).toString("hex")}@example.com`;
    expect(
      (await post(stack.urls["consumer-auth"] as string, "/api/v1/auth/otp/request", { email }, { "x-publishable-key": pk })).status,
    ).toBe(200);
    await waitForOutbox(email);
    for (const service of AUTHPLANE_SERVICES.filter((s) => s !== "otp-delivery")) {
      const rogue = await rogueAs(service);
      await expect(rogue.jsm.streams.getMessage("OTP_REQUESTS", { last_by_subj: "otp.v1.requested" })).rejects.toThrow(
        /Permissions Violation for Publish to "\$JS.API.STREAM.MSG.GET.OTP_REQUESTS"/,
      );
      await expect(
        rogue.jsm.consumers.add("OTP_REQUESTS", { durable_name: `rogue-${service}`, ack_policy: "explicit" as never }),
      ).rejects.toThrow(/Permissions Violation/);
      // Not even through otp-delivery's own durable consumer.
      await expect(rogue.js.consumers.get("OTP_REQUESTS", "otp-delivery")).rejects.toThrow(/Permissions Violation/);
      await expect(rogue.jsm.streams.purge("OTP_REQUESTS")).rejects.toThrow(/Permissions Violation/);
      await expect(rogue.jsm.streams.delete("OTP_REQUESTS")).rejects.toThrow(/Permissions Violation/);
      for (const subject of ["otp.v1.requested", ">", "_INBOX.>", "_INBOX.otp-delivery.>", "$JS.API.>"])
        expect(await subscribeOutcome(rogue, subject)).toMatch(/Permissions Violation for Subscription/);
    }
  });

  test("nobody but consumer-auth publishes delivery jobs: a forged job sends nothing", async () => {
    const victim = `forged-${randomBytes(4).toString("hex")}@example.com`;
    for (const service of AUTHPLANE_SERVICES.filter((s) => s !== "consumer-auth")) {
      const rogue = await rogueAs(service);
      // A well-formed job, sealed with the right (development) key: only the publisher is wrong.
      const event = {
        id: newEventId(),
        type: "otp.v1.requested",
        version: 2,
        occurredAt: new Date().toISOString(),
        organizationId: "org_forged",
        mode: "test",
        data: {} as Record<string, unknown>,
      };
      const plain = {
        requestId: `otp_${randomBytes(8).toString("hex")}`,
        channel: "email" as const,
        to: victim,
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        ttlSeconds: 600,
        organizationName: "Your Bank",
      };
      const sealedCode = sealOtpCode("123456", importSealPublicKey(DEV_OTP_SEAL_KEYS.publicKey), {
        eventId: event.id,
        organizationId: event.organizationId,
        mode: event.mode,
        requestId: plain.requestId,
        channel: plain.channel,
        to: plain.to,
      });
      event.data = { ...plain, sealedCode };
      await expect(rogue.js.publish("otp.v1.requested", JSON.stringify(event), { msgID: event.id })).rejects.toThrow(
        /Permissions Violation for Publish to "otp.v1.requested"/,
      );
    }
    // A real job published after the forged ones is delivered; the forged ones never are.
    const real = `real-${randomBytes(4).toString("hex")}@example.com`;
    expect(
      (await post(stack.urls["consumer-auth"] as string, "/api/v1/auth/otp/request", { email: real }, { "x-publishable-key": pk })).status,
    ).toBe(200);
    await waitForOutbox(real);
    expect(await outbox(victim)).toEqual([]);
  });

  test("each service publishes only its own events", async () => {
    const owner = await rogueAs("admin-key");
    const heard: string[] = [];
    // admin-key may listen to its own events: the observer of this test.
    expect(await subscribeOutcome(owner, "auth.keys.v1.*", heard)).toBeNull();
    const observed = owner.nc.subscribe("auth.keys.v1.*", {
      callback: (err, m) => {
        if (!err) heard.push(m.subject);
      },
    });
    await owner.nc.flush();
    const before = (await owner.jsm.streams.info("AUTH_EVENTS")).state.messages;
    const foreign: Record<AuthplaneService, string[]> = {
      "admin-key": ["auth.sessions.v1.revoked", "auth.credentials.v1.created", "auth.otp.v1.delivered"],
      "consumer-auth": ["auth.keys.v1.revoked", "auth.organizations.v1.settings_updated", "auth.passkeys.v1.authenticated"],
      "otp-delivery": ["auth.keys.v1.revoked", "auth.sessions.v1.created", "auth.credentials.v1.deactivated"],
      "webauthn-credential": ["auth.keys.v1.rotated", "auth.sessions.v1.revoked", "auth.otp.v1.delivery_failed"],
    };
    for (const service of AUTHPLANE_SERVICES) {
      const rogue = await rogueAs(service);
      for (const subject of foreign[service]) {
        const event = {
          id: newEventId(),
          type: subject.slice("auth.".length),
          version: 1,
          occurredAt: new Date().toISOString(),
          organizationId: "org_forged",
          mode: "live",
          data: { keyId: "key_x" },
        };
        await expect(rogue.js.publish(subject, JSON.stringify(event), { msgID: event.id })).rejects.toThrow(
          /Permissions Violation for Publish/,
        );
      }
      // Nor any subject outside its own, e.g. the signing-key announcements of consumer-auth.
      if (service !== "consumer-auth") {
        await expect(rogue.js.publish("consumer-auth.v1.signing-keys.changed", "kid_forged")).rejects.toThrow(/Permissions Violation/);
      }
    }
    await sleep(300);
    expect(heard.filter((s) => s === "auth.keys.v1.revoked" || s === "auth.keys.v1.rotated")).toEqual([]);
    expect((await owner.jsm.streams.info("AUTH_EVENTS")).state.messages).toBe(before);
    observed.unsubscribe();
  });

  test("admin-key reads every service's events (the console's live tail); no other service reads another's", async () => {
    const admin = await rogueAs("admin-key");
    for (const family of ["auth.sessions.v1.*", "auth.otp.v1.*", "auth.credentials.v1.*", "auth.passkeys.v1.*"]) {
      expect(await subscribeOutcome(admin, family)).toBeNull();
    }
    // Never the whole tree at once.
    expect(await subscribeOutcome(admin, "auth.>")).toMatch(/Permissions Violation for Subscription/);
    const otp = await rogueAs("otp-delivery");
    expect(await subscribeOutcome(otp, "auth.sessions.v1.*")).toMatch(/Permissions Violation for Subscription/);
    const webauthn = await rogueAs("webauthn-credential");
    expect(await subscribeOutcome(webauthn, "auth.otp.v1.*")).toMatch(/Permissions Violation for Subscription/);
  });

  test("the services themselves never hit a permission violation: their permissions are enough", () => {
    for (const service of AUTHPLANE_SERVICES) {
      // Every violation in the server log comes from a rogue connection of this test.
      const own = natsLog.split("\n").filter((l) => /Violation/.test(l) && l.includes(`nats.js:${service}"`));
      expect(own).toEqual([]);
    }
    expect(natsLog).toMatch(/Violation/);
  });
});
