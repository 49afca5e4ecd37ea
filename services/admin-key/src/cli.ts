#!/usr/bin/env node
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { OrganizationKeys, type OrganizationView } from "@authplane/contracts";
import { AppError, loadEnvOrExit, ValidationError } from "@authplane/service-kit";
import { Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { createPrisma } from "./deps.js";
import { CliEnv } from "./env.js";
import { migrate } from "./migrate.js";
import type { Store } from "./store.js";
import { createOrganization } from "./usecases/create-organization.js";
import { getOrganization, listOrganizations } from "./usecases/get-organization.js";
import { listApiKeys, revokeApiKey, rotateApiKey, scopeOfKey } from "./usecases/manage-api-keys.js";
import { getSettings, updateSettings } from "./usecases/update-settings.js";
import { validateAllowedOrigins } from "./usecases/validate-allowed-origins.js";
import { verifyApiKey } from "./usecases/verify-api-key.js";

/**
 * authctl: operator CLI. Talks to admin-key's Postgres schema directly with the service's own use
 * cases. Events it causes are written to the outbox and published by the running admin-key.
 * Keys are printed to stdout on purpose (shown once); nothing is logged.
 */

const DevOrgFile = z.object({
  organization: z.object({ id: z.string(), name: z.string() }),
  // passkeySdkSecret is derived from the secret keys; files written before it existed still count.
  keys: OrganizationKeys.partial({ passkeySdkSecret: true }),
});

const DEV_WEBAUTHN = { rpId: "localhost", rpName: "Authplane Dev", origins: ["http://localhost:8080"] };
/**
 * Pages that may call the consumer API with the development keys: the gateway under both of its
 * local names (a page on one calling the API on the other is a real cross-origin call).
 */
const DEV_ALLOWED_ORIGINS = ["http://localhost:8080", "http://127.0.0.1:8080"];

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const env = loadEnvOrExit(CliEnv);
  await migrate(env.DATABASE_URL, env.DATABASE_SCHEMA);
  const prisma = createPrisma({ ...env, DATABASE_POOL_SIZE: 2 });
  try {
    // No relay here: the running service polls the outbox and publishes these rows.
    return await fn({ prisma, afterCommit: () => {} });
  } finally {
    await prisma.$disconnect();
  }
}

const out = (line = "") => process.stdout.write(`${line}\n`);

function printOrganization(org: OrganizationView, keys?: OrganizationKeys): void {
  out(`organization  ${org.id}  ${org.name}`);
  for (const mode of ["live", "test"] as const) {
    const s = org.settingsByMode[mode];
    out(`  ${mode} access token ttl   ${s.accessTokenTtlSeconds}s`);
    out(`  ${mode} refresh token ttl  ${s.refreshTokenTtlSeconds}s`);
    out(`  ${mode} session lifetime   ${s.sessionLifetimeSeconds}s`);
    if (s.webauthn)
      out(
        `  ${mode} webauthn           ${s.webauthn.rpId} (${s.webauthn.origins.join(", ")})${s.webauthn.requireUserVerification ? ", user verification required" : ""}`,
      );
    if (s.allowedOrigins.length) out(`  ${mode} allowed origins    ${s.allowedOrigins.join(", ")}`);
  }
  if (keys) {
    out();
    out("keys (shown once; secret keys are stored only as a hash):");
    out(`  publishable live  ${keys.publishable.live}`);
    out(`  publishable test  ${keys.publishable.test}`);
    out(`  secret live       ${keys.secret.live}`);
    out(`                    ${keys.passkeySdkSecret.live}   (the same key, as the passkey server SDKs take it)`);
    out(`  secret test       ${keys.secret.test}`);
    out(`                    ${keys.passkeySdkSecret.test}   (the same key, as the passkey server SDKs take it)`);
  }
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 30 * 86_400) throw new InvalidArgumentError("an integer number of seconds from 0 to 2592000");
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Is the dev-org file still good (its organization exists and its four keys still verify)? Its organization id, or null. */
async function devOrgStillValid(store: Store, file: string): Promise<string | null> {
  let parsed: z.infer<typeof DevOrgFile>;
  try {
    parsed = DevOrgFile.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return null;
  }
  if (!(await getOrganization(store, { organizationId: parsed.organization.id }))) return null;
  const { publishable, secret } = parsed.keys;
  for (const key of [publishable.live, publishable.test, secret.live, secret.test]) {
    const v = await verifyApiKey(store, { key });
    if (!v || v.reply.organizationId !== parsed.organization.id) return null;
  }
  return parsed.organization.id;
}

export function buildCli(): Command {
  const program = new Command("authctl").description("Operate admin-key: organizations and API keys").showHelpAfterError();

  const org = program.command("org").description("organizations");
  org
    .command("create <name>")
    .description("create an organization and print its four keys")
    .option("--rp-id <rpId>", "WebAuthn relying party id (host name)")
    .option("--rp-name <rpName>", "WebAuthn relying party name")
    .option("--origin <origin>", "allowed WebAuthn origin (repeatable)", collect, [])
    .option("--allowed-origin <origin>", "browser origin allowed to call the consumer API, both modes (repeatable)", collect, [])
    .option("--require-user-verification", "passkeys must verify the user (biometrics/PIN) to register and sign in")
    .action(
      async (
        name: string,
        opts: { rpId?: string; rpName?: string; origin: string[]; allowedOrigin: string[]; requireUserVerification?: boolean },
      ) => {
        const webauthn = opts.rpId
          ? {
              rpId: opts.rpId,
              rpName: opts.rpName ?? name,
              origins: opts.origin,
              requireUserVerification: opts.requireUserVerification === true,
            }
          : undefined;
        const created = await withStore((store) => createOrganization(store, { name, webauthn, allowedOrigins: opts.allowedOrigin }));
        printOrganization(created.organization, created.keys);
      },
    );
  org
    .command("list")
    .description("list organizations (newest first)")
    .option("--limit <n>", "how many", (v) => Number.parseInt(v, 10), 100)
    .action(async (opts: { limit: number }) => {
      const { organizations } = await withStore((store) =>
        listOrganizations(store, { limit: Math.min(Math.max(opts.limit || 100, 1), 1000) }),
      );
      for (const o of organizations) out(`${o.id}  ${o.createdAt}  ${o.name}`);
    });

  const keys = program.command("keys").description("API keys");
  keys
    .command("list <orgId>")
    .description("list an organization's keys (prefix and last four only)")
    .action(async (orgId: string) => {
      const rows = await withStore(async (store) => {
        if (!(await getOrganization(store, { organizationId: orgId })))
          throw new AppError(404, "organization_not_found", `No organization ${orgId}.`);
        return [
          ...(await listApiKeys(store, { organizationId: orgId, mode: "live" })),
          ...(await listApiKeys(store, { organizationId: orgId, mode: "test" })),
        ];
      });
      for (const k of rows)
        out(`${k.id}  ${k.display.padEnd(18)} ${k.kind.padEnd(11)} ${k.mode}  ${k.status}${k.expiresAt ? ` until ${k.expiresAt}` : ""}`);
    });
  keys
    .command("rotate <keyId>")
    .description("issue a replacement key; the old one works until --expires-in (default 86400 s; 0 = at once)")
    .option("--expires-in <seconds>", "seconds the old key keeps working", seconds, 86_400)
    .action(async (keyId: string, opts: { expiresIn: number }) => {
      const issued = await withStore(async (store) =>
        rotateApiKey(store, { ...(await scopeOfKey(store, { keyId })), keyId, expiresInSeconds: opts.expiresIn }),
      );
      out(`new key     ${issued.key.id}  ${issued.value}`);
      if (issued.passkeySdkValue) out(`            ${issued.passkeySdkValue}   (the same key, as the passkey server SDKs take it)`);
      out(`old key     ${keyId}  expires ${issued.previous?.expiresAt ?? "now"}`);
    });
  keys
    .command("revoke <keyId>")
    .description("revoke a key at once")
    .action(async (keyId: string) => {
      const key = await withStore(async (store) => revokeApiKey(store, { ...(await scopeOfKey(store, { keyId })), keyId }));
      out(`${key.id}  ${key.display}  revoked at ${key.revokedAt}`);
    });

  program
    .command("dev-org")
    .description("ensure the development organization exists and its keys are in --file (idempotent)")
    .requiredOption("--file <path>", "JSON file with the organization and its keys (mode 0600)")
    .option("--allowed-origin <origin>", "another browser origin allowed to call the consumer API (repeatable)", collect, [])
    .action(async (opts: { file: string; allowedOrigin: string[] }) => {
      const file = path.resolve(opts.file);
      const wanted = validateAllowedOrigins([...DEV_ALLOWED_ORIGINS, ...opts.allowedOrigin]);
      await withStore(async (store) => {
        const existing = await devOrgStillValid(store, file);
        if (existing) {
          // An organization made by an older dev-org (or trimmed by hand) gets the dev origins back.
          for (const mode of ["live", "test"] as const) {
            const scope = { organizationId: existing, mode };
            const { allowedOrigins } = await getSettings(store, scope);
            const missing = wanted.filter((o) => !allowedOrigins.includes(o));
            if (missing.length) await updateSettings(store, { ...scope, patch: { allowedOrigins: [...allowedOrigins, ...missing] } });
          }
          return;
        }
        const created = await createOrganization(store, { name: "Development", webauthn: DEV_WEBAUTHN, allowedOrigins: wanted });
        const content = {
          organization: { id: created.organization.id, name: created.organization.name },
          keys: created.keys,
        };
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
        await chmod(file, 0o600);
        out(`development organization ${created.organization.id} written to ${file}`);
      });
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof ValidationError) {
      process.stderr.write(`authctl: invalid input:\n${err.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`).join("\n")}\n`);
    } else if (err instanceof AppError) {
      process.stderr.write(`authctl: ${err.message}\n`);
    } else {
      process.stderr.write(`authctl: ${(err as Error).message}\n`);
    }
    process.exit(1);
  });
