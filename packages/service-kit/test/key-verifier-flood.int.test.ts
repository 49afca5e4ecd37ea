import { randomBytes } from "node:crypto";
import { jest } from "@jest/globals";
import type { Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { ipGroup } from "../src/ip-group.js";
import { KeyVerifier } from "../src/key-verifier.js";
import { connectJetStream, type NatsHandles } from "../src/nats.js";
import { createTestIsolation } from "../src/testing/index.js";

// Issue 10 items 1 and 2, from the attacker's side: a flood of random well-formed keys must cost
// the key service at most one lookup per distinct key per negative-cache window, and a flood must
// not push the organization's hot keys out of the cache.

const iso = createTestIsolation();
let nats: NatsHandles;
let responder: Subscription;
/** Every key the key service was asked about, in order (the upstream lookups). */
const asked: string[] = [];
const VALID = new Set<string>();

function validReply(key: string) {
  return {
    valid: true,
    keyId: `key_${key.slice(-8)}`,
    organizationId: "org_1",
    organizationName: "Org",
    mode: "live",
    kind: "publishable",
    expiresAt: null,
    settings: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 86_400, webauthn: null, allowedOrigins: [] },
  };
}

const randomKey = () => `pk_live_${randomBytes(24).toString("base64url")}`;

beforeAll(async () => {
  nats = await connectJetStream(iso.natsUrl, "kit-key-verifier-test");
  // Stands in for admin-key's keys.v1.verify responder and counts what it is asked.
  responder = nats.nc.subscribe(iso.subjects.keysVerify, {
    callback: (_err, msg) => {
      const { key } = msg.json<{ key: string }>();
      asked.push(key);
      msg.respond(JSON.stringify(VALID.has(key) ? validReply(key) : { valid: false, reason: "not_found" }));
    },
  });
  await nats.nc.flush();
});

afterAll(async () => {
  responder.unsubscribe();
  await nats.nc.close();
  await iso.cleanup();
});

afterEach(() => {
  jest.restoreAllMocks();
  asked.length = 0;
  VALID.clear();
});

function verifier(opts: { maxEntries?: number; maxNegativeEntries?: number } = {}) {
  return new KeyVerifier({ nc: nats.nc, subjects: iso.subjects, logger: pino({ level: "silent" }), ...opts });
}

test("a flood of random unknown keys costs one upstream lookup per distinct key within the 30 s negative window", async () => {
  const v = verifier();
  const keys = Array.from({ length: 40 }, randomKey);
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(keys.map((k) => v.check(k)));
    expect(answers.every((a) => !a.ok && a.reason === "not_found")).toBe(true);
  }
  expect(asked.length).toBe(40);
  expect(new Set(asked).size).toBe(40);

  // 20 s later (beyond the old 5 s negative TTL, inside the 30 s window): still no new lookup.
  const now = Date.now();
  jest.spyOn(Date, "now").mockReturnValue(now + 20_000);
  await Promise.all(keys.map((k) => v.check(k)));
  expect(asked.length).toBe(40);

  // Once the window is over, each key is asked about again (once).
  jest.spyOn(Date, "now").mockReturnValue(now + 31_000);
  await Promise.all(keys.map((k) => v.check(k)));
  await Promise.all(keys.map((k) => v.check(k)));
  expect(asked.length).toBe(80);
  v.stop();
});

test("a full key cache evicts the least recently used key and keeps the hot one", async () => {
  const v = verifier({ maxEntries: 3 });
  const hot = randomKey();
  const others = Array.from({ length: 10 }, randomKey);
  for (const k of [hot, ...others]) VALID.add(k);
  expect((await v.check(hot)).ok).toBe(true);
  for (const k of others) {
    expect((await v.check(k)).ok).toBe(true);
    // Real traffic keeps using the hot key between new keys.
    expect((await v.check(hot)).ok).toBe(true);
  }
  // The hot key was asked about once; the cold ones that were evicted are asked about again.
  expect(asked.filter((k) => k === hot)).toHaveLength(1);
  expect((await v.check(others[0] ?? "")).ok).toBe(true);
  expect(asked.filter((k) => k === others[0])).toHaveLength(2);
  v.stop();
});

test("a flood of unknown keys never evicts valid keys (the negative cache is separate and bounded)", async () => {
  const v = verifier({ maxEntries: 3, maxNegativeEntries: 50 });
  const good = [randomKey(), randomKey()];
  for (const k of good) VALID.add(k);
  for (const k of good) expect((await v.check(k)).ok).toBe(true);
  const flood = Array.from({ length: 200 }, randomKey);
  await Promise.all(flood.map((k) => v.check(k)));
  for (const k of good) expect((await v.check(k)).ok).toBe(true);
  for (const k of good) expect(asked.filter((a) => a === k)).toHaveLength(1);
  v.stop();
});

describe("ipGroup (every per-IP limit's key)", () => {
  test("IPv6 addresses of one /64 are one client; another /64 is another", () => {
    const sweep = Array.from(
      { length: 50 },
      (_, i) => `2001:db8:1:2:${((i * 7919) % 65_536).toString(16)}:${i.toString(16)}::${(i + 1).toString(16)}`,
    );
    expect(new Set(sweep.map((ip) => ipGroup(ip))).size).toBe(1);
    expect(ipGroup("2001:db8:1:2::1")).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(ipGroup("2001:db8:1:3::1")).not.toBe(ipGroup("2001:db8:1:2::1"));
  });

  test("the prefix is configurable", () => {
    expect(ipGroup("2001:db8:1:2::1", 48)).toBe(ipGroup("2001:db8:1:ffff::9", 48));
    expect(ipGroup("2001:db8:1:2::1", 128)).not.toBe(ipGroup("2001:db8:1:2::2", 128));
    expect(ipGroup("2001:db8:1:2::1", 56)).toBe("2001:db8:1:0:0:0:0:0/56");
  });

  test("IPv4 counts alone, and IPv4-mapped IPv6 is the IPv4 address", () => {
    expect(ipGroup("198.51.100.7")).toBe("198.51.100.7");
    expect(ipGroup("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(ipGroup("198.51.100.8")).not.toBe(ipGroup("198.51.100.7"));
    expect(ipGroup("fe80::1%eth0")).toBe("fe80:0:0:0:0:0:0:0/64");
    expect(ipGroup("unknown")).toBe("unknown");
  });
});
