import {
  type ResponseValidator,
  type TestIsolation,
  createResponseValidator,
  createTestIsolation,
  validateResponses,
} from "@authplane/service-kit/testing";
import supertest from "supertest";
import { webauthnOpenApi } from "../../src/app.js";
import { startWebauthnForTest } from "../../src/testing.js";
import { type AdminForTest, startAdmin } from "./admin.js";
import type { SoftAuthenticator } from "./soft-authenticator.js";

export const ORIGIN = "https://app.example.com";
export const RP = { rpId: "example.com", rpName: "Example", origins: [ORIGIN] };

export const basicPk = (pk: string) => `Basic ${Buffer.from(`${pk}:`).toString("base64")}`;
export const basicSk = (sk: string) => `Basic ${Buffer.from(`:${sk}`).toString("base64")}`;

export interface Harness {
  iso: TestIsolation;
  admin: AdminForTest;
  svc: Awaited<ReturnType<typeof startWebauthnForTest>>;
  http: ReturnType<typeof supertest>;
  /** Checks every response of `http` against the service's OpenAPI document. */
  validator: ResponseValidator;
  stop(): Promise<void>;
}

export async function startHarness(opts: { env?: Record<string, string> } = {}): Promise<Harness> {
  const iso = createTestIsolation();
  const admin = await startAdmin(iso);
  const svc = await startWebauthnForTest(iso, { env: opts.env });
  const validator = createResponseValidator(webauthnOpenApi({ demo: svc.deps.env.DEMO_ENABLED }));
  return {
    iso,
    admin,
    svc,
    // Every response of the suite is checked against the service's OpenAPI document.
    http: validateResponses(supertest(svc.app), validator),
    validator,
    async stop() {
      await svc.stop();
      await admin.stop();
      await iso.cleanup();
    },
  };
}

/** A client-API call as the browser SDK makes it. */
export function clientCall(h: Harness, pk: string, path: string, body: unknown, origin: string | null = ORIGIN) {
  const req = h.http
    .post(path)
    .set("Authorization", basicPk(pk))
    .set("Content-Type", "application/json")
    .set("Accept", "application/json")
    .set("X-SDK", "js/0.3.0");
  if (origin) req.set("Origin", origin);
  return req.send(body as object);
}

/** A server-API call as the server SDKs make it. */
export function serverCall(h: Harness, sk: string, path: string, body: unknown) {
  return h.http
    .post(path)
    .set("Authorization", basicSk(sk))
    .set("Content-Type", "application/json")
    .send(body as object);
}

export interface Flow {
  origin?: string;
  rpId?: string;
}

/** options -> authenticator -> process; returns the process response. */
export async function registerPasskey(h: Harness, pk: string, auth: SoftAuthenticator, flow: Flow = {}) {
  const origin = flow.origin ?? ORIGIN;
  const opts = await clientCall(h, pk, "/attestation/options", { upgrade: false }, origin);
  if (opts.status !== 200) throw new Error(`attestation/options ${opts.status} ${JSON.stringify(opts.body)}`);
  const credential = auth.register(opts.body.result.publicKey, { origin, rpId: flow.rpId });
  return clientCall(h, pk, "/attestation/process", { credential }, origin);
}

/** Registers and attaches; returns the ctl_ id. */
export async function enroll(h: Harness, keys: { pk: string; sk: string }, auth: SoftAuthenticator, user: { id: string; handle?: string }) {
  const processed = await registerPasskey(h, keys.pk, auth);
  if (processed.status !== 200) throw new Error(`attestation/process ${processed.status} ${JSON.stringify(processed.body)}`);
  const attached = await serverCall(h, keys.sk, "/registration/attach", { token: processed.body.result.token, user });
  if (attached.status !== 200) throw new Error(`attach ${attached.status} ${JSON.stringify(attached.body)}`);
  return attached.body.result.id as string;
}

export async function assertionOptions(h: Harness, pk: string, body: unknown = {}, origin = ORIGIN) {
  const opts = await clientCall(h, pk, "/assertion/options", body, origin);
  if (opts.status !== 200) throw new Error(`assertion/options ${opts.status} ${JSON.stringify(opts.body)}`);
  return opts.body.result.publicKey;
}

/** options -> authenticator -> process; returns the process response. */
export async function signIn(
  h: Harness,
  pk: string,
  auth: SoftAuthenticator,
  flow: Flow & { user?: Record<string, string>; counter?: number; credentialId?: string } = {},
) {
  const origin = flow.origin ?? ORIGIN;
  const publicKey = await assertionOptions(h, pk, flow.user ? { user: flow.user } : {});
  const credential = auth.authenticate(publicKey, { origin, rpId: flow.rpId, counter: flow.counter, credentialId: flow.credentialId });
  return clientCall(h, pk, "/assertion/process", { credential, ...(flow.user ? { user: flow.user } : {}) }, origin);
}

/** Every passkey API answer is wrapped {result, errors}; errors carry seed 003 codes. */
export function expectWrappedError(res: { status: number; body: unknown }, status: number, code: string) {
  const body = res.body as { result: unknown; errors: Array<{ code: string; message: string }> };
  expect({ status: res.status, result: body.result, code: body.errors?.[0]?.code }).toEqual({ status, result: null, code });
  expect(typeof body.errors[0]?.message).toBe("string");
}
