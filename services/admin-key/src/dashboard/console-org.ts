import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { AppDeps } from "../deps.js";
import { createOrganization } from "../usecases/create-organization.js";
import { createApiKey, revokeApiKey } from "../usecases/manage-api-keys.js";
import { updateSettings } from "../usecases/update-settings.js";

/**
 * The console organization: the platform's own organization whose consumers are the console's
 * organization admins. Their email OTP sign-in runs in it (consumer-auth), their passkeys belong to
 * it (webauthn-credential). Created by admin-key when missing (at start, and on first use), once
 * even with several instances starting together (a Postgres advisory lock around "read or create").
 *
 * Its live publishable key is kept in clear (public by nature; the server uses it, and the
 * passkey script gets it). Its live secret key (webauthn-credential's server API: attach, verify)
 * is kept **sealed at rest**: AES-256-GCM under a key derived (HKDF-SHA256) from
 * DASHBOARD_SEAL_KEY, or from OPERATOR_TOKEN when that is unset, with the organization id as
 * additional data. So every instance can use it (no per-instance key to create and clean up), a
 * database copy alone does not reveal it, and if the seal key changes the next start cannot open
 * the box and simply issues a new secret key (revoking the old one) and seals that.
 * The secret never leaves the server: not in a page, a log or a URL.
 */

export interface ConsoleOrganization {
  organizationId: string;
  /** Live publishable key (consumer API, passkey client API). */
  publishableKey: string;
  /** Live secret key (passkey server API). Server-side only. */
  secretKey: string;
}

const ROW_ID = "console";
export const CONSOLE_MODE = "live" as const;

type ConsoleEnv = Pick<AppDeps["env"], "DASHBOARD_SEAL_KEY" | "OPERATOR_TOKEN" | "DASHBOARD_PUBLIC_ORIGIN">;

function sealKey(env: ConsoleEnv): Buffer {
  const material = env.DASHBOARD_SEAL_KEY ?? env.OPERATOR_TOKEN;
  return Buffer.from(hkdfSync("sha256", material, "authplane-dashboard", "console-organization-secret-key", 32));
}

function seal(env: ConsoleEnv, organizationId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey(env), iv);
  cipher.setAAD(Buffer.from(organizationId));
  const ct = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), ct.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** The sealed secret, or null when it does not open (another seal key). */
function unseal(env: ConsoleEnv, organizationId: string, box: string): string | null {
  const [v, iv, ct, tag] = box.split(".");
  if (v !== "v1" || !iv || !ct || !tag) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealKey(env), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(organizationId));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/** Where browsers reach the console when DASHBOARD_PUBLIC_ORIGIN is unset (`npm start`). */
const DEFAULT_CONSOLE_ORIGIN = "http://localhost:8080";

/** The console's relying party and allowed origins, from DASHBOARD_PUBLIC_ORIGIN. */
function consoleRelyingParty(env: Pick<ConsoleEnv, "DASHBOARD_PUBLIC_ORIGIN">) {
  const url = new URL(env.DASHBOARD_PUBLIC_ORIGIN ?? DEFAULT_CONSOLE_ORIGIN);
  return { rpId: url.hostname, rpName: "authplane console", origins: [url.origin] };
}

/** Holds a session-level advisory lock (per schema) around `work`: one creator among instances. */
async function withLock<T>(deps: AppDeps, work: () => Promise<T>): Promise<T> {
  const client = await deps.pool.connect();
  const name = `dashboard-console:${deps.env.DATABASE_SCHEMA}`;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
    try {
      return await work();
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
    }
  } finally {
    client.release();
  }
}

async function readOrCreate(deps: AppDeps): Promise<ConsoleOrganization> {
  const { env } = deps;
  const rp = consoleRelyingParty(env);
  const row = await deps.prisma.dashboardConsole.findFirst({ where: { id: ROW_ID } });
  if (!row) {
    const created = await createOrganization(deps, { name: "authplane console", webauthn: rp, allowedOrigins: rp.origins });
    const organizationId = created.organization.id;
    const secretKeyId = (
      await deps.prisma.apiKey.findFirstOrThrow({ where: { organizationId, mode: CONSOLE_MODE, kind: "secret" }, select: { id: true } })
    ).id;
    await deps.prisma.dashboardConsole.create({
      data: {
        id: ROW_ID,
        organizationId,
        publishableKey: created.keys.publishable.live,
        sealedSecretKey: seal(env, organizationId, created.keys.secret.live),
        secretKeyId,
      },
    });
    deps.logger.info({ organizationId }, "dashboard: console organization created");
    return { organizationId, publishableKey: created.keys.publishable.live, secretKey: created.keys.secret.live };
  }
  const { organizationId } = row;
  // The console's origin may have changed (DASHBOARD_PUBLIC_ORIGIN): keep the settings in step.
  const settings = await deps.prisma.organizationSettings.findFirst({ where: { organizationId, mode: CONSOLE_MODE } });
  const same = (a: readonly string[] | undefined, b: readonly string[]) => JSON.stringify(a ?? []) === JSON.stringify(b);
  if (
    !settings ||
    settings.webauthnRpId !== rp.rpId ||
    !same(settings.webauthnOrigins, rp.origins) ||
    !same(settings.allowedOrigins, rp.origins)
  ) {
    await updateSettings(deps, { organizationId, mode: CONSOLE_MODE, patch: { webauthn: rp, allowedOrigins: rp.origins } });
    deps.logger.info({ organizationId, origin: rp.origins[0] }, "dashboard: console organization's origin updated");
  }
  let secretKey = unseal(env, organizationId, row.sealedSecretKey);
  if (secretKey === null) {
    // Another seal key (DASHBOARD_SEAL_KEY or OPERATOR_TOKEN changed): a new secret key, the old one revoked.
    const issued = await createApiKey(deps, { organizationId, mode: CONSOLE_MODE, kind: "secret" });
    await revokeApiKey(deps, { organizationId, mode: CONSOLE_MODE, keyId: row.secretKeyId }).catch(() => undefined);
    secretKey = issued.value;
    await deps.prisma.dashboardConsole.update({
      where: { id: ROW_ID },
      data: { sealedSecretKey: seal(env, organizationId, secretKey), secretKeyId: issued.key.id, updatedAt: new Date() },
    });
    deps.logger.warn(
      { organizationId },
      "dashboard: the console organization's sealed key did not open (seal key changed): issued a new one",
    );
  }
  return { organizationId, publishableKey: row.publishableKey, secretKey };
}

/**
 * A new live secret key for the console organization, sealed and stored; the old one revoked.
 * For when the stored one stopped working (revoked or rotated away through the console or the
 * Admin API): the next use after a refusal heals instead of failing until someone notices.
 */
export async function renewConsoleSecretKey(deps: AppDeps): Promise<ConsoleOrganization> {
  const renewed = withLock(deps, async () => {
    const row = await deps.prisma.dashboardConsole.findFirstOrThrow({ where: { id: ROW_ID } });
    const issued = await createApiKey(deps, { organizationId: row.organizationId, mode: CONSOLE_MODE, kind: "secret" });
    await revokeApiKey(deps, { organizationId: row.organizationId, mode: CONSOLE_MODE, keyId: row.secretKeyId }).catch(() => undefined);
    await deps.prisma.dashboardConsole.update({
      where: { id: ROW_ID },
      data: { sealedSecretKey: seal(deps.env, row.organizationId, issued.value), secretKeyId: issued.key.id, updatedAt: new Date() },
    });
    deps.logger.warn(
      { organizationId: row.organizationId },
      "dashboard: the console organization's secret key was refused: issued a new one",
    );
    return { organizationId: row.organizationId, publishableKey: row.publishableKey, secretKey: issued.value };
  });
  cache.set(deps, renewed);
  renewed.catch(() => cache.delete(deps));
  return renewed;
}

const cache = new WeakMap<AppDeps, Promise<ConsoleOrganization>>();

/**
 * The console organization (created when missing), once per process; a failure is not cached
 * (the next call tries again).
 */
export function consoleOrganization(deps: AppDeps): Promise<ConsoleOrganization> {
  let p = cache.get(deps);
  if (!p) {
    p = withLock(deps, () => readOrCreate(deps));
    cache.set(deps, p);
    p.catch(() => cache.delete(deps));
  }
  return p;
}
