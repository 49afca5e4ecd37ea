import type { Express } from "express";
import { createApp } from "./app.js";
import { type AppDeps, type BuildDepsOptions, buildDeps, closeDeps } from "./deps.js";
import { Env } from "./env.js";
import { migrate } from "./migrate.js";

/** What `startWebauthnForTest` needs from a `createTestIsolation()` result. */
export interface WebauthnTestIsolation {
  env(service: string): Record<string, string>;
}

export interface StartWebauthnOptions extends BuildDepsOptions {
  /** Extra environment (e.g. `{ TOKEN_TTL_SECONDS: "1" }`). */
  env?: Record<string, string>;
}

/**
 * The service in-process on the isolation's Postgres schema, Redis prefix and NATS prefix
 * (migrated, event stream ensured). `app` is the Express app (supertest, or `app.listen(0)`).
 * admin-key must answer `keys.v1.verify` on the same isolation (startAdminKeyForTest).
 */
export async function startWebauthnForTest(
  iso: WebauthnTestIsolation,
  opts: StartWebauthnOptions = {},
): Promise<{ app: Express; deps: AppDeps; stop(): Promise<void> }> {
  const env = Env.parse({ ...iso.env("webauthn-credential"), ...opts.env });
  await migrate(env);
  const deps = await buildDeps(env, opts);
  const app = createApp(deps);
  return { app, deps, stop: () => closeDeps(deps) };
}
