import { createPrivateKey, type KeyObject } from "node:crypto";
import { type AdminKeyTestHandle, type CreatedOrganization, startAdminKeyForTest } from "@authplane/admin-key/testing";
import { type EventEnvelope, OtpRequestedData } from "@authplane/contracts";
import { DEV_OTP_SEAL_KEYS, importSealPrivateKey, openOtpCode } from "@authplane/service-kit";
import {
  createResponseValidator,
  createTestIsolation,
  listRoutes,
  type ResponseValidator,
  type TestIsolation,
  validateResponses,
} from "@authplane/service-kit/testing";
import type { Express } from "express";
import supertest from "supertest";
import { consumerAuthOpenApi } from "../src/app.js";
import { type ConsumerAuthForTest, startConsumerAuthForTest } from "../src/testing.js";
import { decryptPrivateKey } from "../src/tokens/key-encryption.js";

// Built when the suite's files load (not inside a test's first request, which some tests time).
const validators = new Map<boolean, ResponseValidator>([
  [true, createResponseValidator(consumerAuthOpenApi({ demo: true }), { precompile: true })],
  [false, createResponseValidator(consumerAuthOpenApi({ demo: false }), { precompile: true })],
]);
const demoMounted = new WeakMap<object, boolean>();

/** The validator of consumer-auth's document, with or without the demo's routes (created once each). */
export function responseValidator(demo: boolean): ResponseValidator {
  let v = validators.get(demo);
  if (!v) {
    v = createResponseValidator(consumerAuthOpenApi({ demo }));
    validators.set(demo, v);
  }
  return v;
}

/**
 * supertest, with every response checked against consumer-auth's OpenAPI document (issue 11 item
 * 4): a response whose status, content type or body the document does not declare fails the test
 * that awaited it. The suite's requests all go through this. Responses of paths the document does
 * not name (admin-key's, unknown paths, CORS preflights) are not checked. For an app, the document
 * of its configuration (demo routes or not); for a URL, the one with the demo's routes.
 */
export function request(app: Parameters<typeof supertest>[0]): ReturnType<typeof supertest> {
  let demo = true;
  if (typeof app === "function" && "router" in app) {
    demo = demoMounted.get(app) ?? listRoutes(app as Express).some((r) => r.startsWith("GET /demo/consumer"));
    demoMounted.set(app, demo);
  }
  return validateResponses(supertest(app), responseValidator(demo));
}

export interface World {
  iso: TestIsolation;
  admin: AdminKeyTestHandle;
  ca: ConsumerAuthForTest;
  orgA: CreatedOrganization;
  orgB: CreatedOrganization;
  stop(): Promise<void>;
}

/** admin-key + consumer-auth in-process on one isolation, with two organizations. */
export async function startWorld(
  opts: {
    env?: Record<string, string>;
    settingsA?: { accessTokenTtlSeconds?: number; refreshTokenTtlSeconds?: number; sessionLifetimeSeconds?: number };
  } = {},
): Promise<World> {
  const iso = createTestIsolation();
  const admin = await startAdminKeyForTest(iso);
  const ca = await startConsumerAuthForTest(iso, { env: opts.env });
  const orgA = await admin.createOrganization({ name: "Org A", settings: opts.settingsA });
  const orgB = await admin.createOrganization({ name: "Org B" });
  return {
    iso,
    admin,
    ca,
    orgA,
    orgB,
    async stop() {
      await ca.stop();
      await admin.stop();
      await iso.cleanup();
    },
  };
}

/** Decodes a JWT part without verifying (for assertions and for forging). */
export function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

export function b64url(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString("base64url");
}

/** The active signing key's private KeyObject, decrypted as the service does (attacker-side tests forge with it). */
export async function activePrivateKey(ca: ConsumerAuthForTest): Promise<{ kid: string; key: KeyObject }> {
  const row = await ca.deps.prisma.signingKey.findUniqueOrThrow({ where: { id: ca.deps.tokens.activeKid ?? "" } });
  const der = decryptPrivateKey(row.privateKeyEncrypted, row.id, ca.deps.env.SIGNING_KEY_ENCRYPTION_KEY);
  return { kid: row.id, key: createPrivateKey({ key: der, format: "der", type: "pkcs8" }) };
}

/**
 * The publishable key a client sends with `token` (seed 000: authenticated calls carry both): the
 * key of the organization and mode the token claims; org A's live key when the token is unreadable.
 */
export function publishableKeyFor(w: Pick<World, "orgA" | "orgB">, token: string): string {
  let claims: Record<string, unknown> = {};
  try {
    claims = decodePart(token.split(".")[1]);
  } catch {
    /* a malformed token: any key */
  }
  const org = [w.orgA, w.orgB].find((o) => o.organization.id === claims.organizationId) ?? w.orgA;
  return claims.mode === "test" ? org.keys.publishable.test : org.keys.publishable.live;
}

/**
 * The code of a stored OTP delivery job, opened as otp-delivery opens it (jobs carry the code only
 * sealed to otp-delivery's key; tests run with the development key pair).
 */
export function openJobCode(envelope: EventEnvelope, privateKey: string = DEV_OTP_SEAL_KEYS.privateKey): string {
  const data = OtpRequestedData.parse(envelope.data);
  return openOtpCode(data.sealedCode, [importSealPrivateKey(privateKey)], {
    eventId: envelope.id,
    organizationId: envelope.organizationId,
    mode: envelope.mode,
    requestId: data.requestId,
    channel: data.channel,
    to: data.to,
  });
}
