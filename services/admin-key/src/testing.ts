import { randomBytes } from "node:crypto";
import type { OrganizationKeys } from "@authplane/contracts";
import { type LoggerOptions, parseEnv } from "@authplane/service-kit";
import type { TestIsolation } from "@authplane/service-kit/testing";
import type { Express } from "express";
import { createApp } from "./app.js";
import { type AppDeps, buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";
import { createOrganization } from "./usecases/create-organization.js";

/**
 * Test surface for other services: admin-key running in-process on the test file's isolation
 * (own schema, Redis prefix, NATS subjects), answering `keys.v1.verify` and `orgs.v1.get` and
 * relaying its events, exactly as the real service does.
 */

export interface CreatedOrganization {
  organization: { id: string; name: string; [k: string]: unknown };
  keys: OrganizationKeys;
}

export interface AdminKeyTestHandle {
  /** The admin-key HTTP app (for supertest). */
  app: Express;
  operatorToken: string;
  createOrganization(input?: {
    name?: string;
    webauthn?: { rpId: string; rpName: string; origins: string[]; requireUserVerification?: boolean };
    settings?: { accessTokenTtlSeconds?: number; refreshTokenTtlSeconds?: number; sessionLifetimeSeconds?: number };
    /** Consumer-API browser origins of both modes. */
    allowedOrigins?: string[];
  }): Promise<CreatedOrganization>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment (e.g. rate limits) over the isolation's. */
  env?: Record<string, string>;
  logDestination?: LoggerOptions["destination"];
}

/** Like startAdminKeyForTest, also exposing the dependencies (admin-key's own tests). */
export async function startAdminKeyInProcess(
  iso: TestIsolation,
  options: StartOptions = {},
): Promise<AdminKeyTestHandle & { deps: AppDeps }> {
  const operatorToken = `op_${randomBytes(24).toString("base64url")}`;
  const env = parseEnv(Env, { ...iso.env("admin_key"), OPERATOR_TOKEN: operatorToken, ...options.env });
  await migrate(env.DATABASE_URL, env.DATABASE_SCHEMA);
  const deps = await buildDeps(env, { logDestination: options.logDestination });
  const app = createApp(deps);
  let stopped: Promise<void> | null = null;
  return {
    app,
    operatorToken,
    deps,
    createOrganization: (input = {}) =>
      createOrganization(deps, {
        name: input.name ?? "Test Organization",
        webauthn: input.webauthn,
        settings: input.settings,
        allowedOrigins: input.allowedOrigins,
      }),
    stop: () => {
      stopped ??= closeDeps(deps);
      return stopped;
    },
  };
}

/**
 * Runs admin-key in-process: migrations into `iso.schema("admin_key")`, Prisma, Redis, NATS on
 * `iso.subjects`, the event stream, the verify/org responders and the outbox relay.
 * Call `stop()` in afterAll (before `iso.cleanup()`).
 */
export async function startAdminKeyForTest(iso: TestIsolation): Promise<AdminKeyTestHandle> {
  const { deps: _deps, ...handle } = await startAdminKeyInProcess(iso);
  return handle;
}
