import { connectNats, createLogger, loadEnvOrExit, type NatsConnection, pgPoolConfig } from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { migrate } from "./migrate.js";
import { signingKeysChangedSubject } from "./tokens/signing-key-ring.js";
import { TokenService } from "./tokens/token-service.js";

/**
 * Operator commands:
 *   node dist/cli.js rotate-signing-key           create a new signing key: published in the JWKS
 *                                                 now, signing once every JWKS cache has seen it
 *                                                 (JWKS_MAX_AGE_SECONDS + SIGNING_KEY_REFRESH_SECONDS
 *                                                 + SIGNING_KEY_PUBLISH_MARGIN_SECONDS)
 *   node dist/cli.js withdraw-signing-key <kid>   a compromised key: out of the JWKS and refused at
 *                                                 once on every instance (NATS announcement, else
 *                                                 their next reload); if it was signing, its
 *                                                 published successor or a new key signs from now
 *   node dist/cli.js list-signing-keys            kid, created, state (never key material)
 */
const USAGE = "usage: node dist/cli.js rotate-signing-key | withdraw-signing-key <kid> | list-signing-keys\n";
const command = process.argv[2];
const env = loadEnvOrExit(Env);
const logger = createLogger({ name: "consumer-auth-cli", level: "warn" });
const prisma = new PrismaClient({
  adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, 1), { schema: env.DATABASE_SCHEMA }),
});

/** A TokenService that announces its changes to the running instances (best effort: they also poll). */
async function withTokens<T>(fn: (tokens: TokenService) => Promise<T>): Promise<T> {
  const nc: NatsConnection | null = await connectNats(env.NATS_URL, "consumer-auth-cli", { service: "consumer-auth", auth: env }).catch(
    () => null,
  );
  if (!nc)
    process.stderr.write(`warning: NATS unreachable; running instances pick the change up within ${env.SIGNING_KEY_REFRESH_SECONDS} s\n`);
  const nats = nc ? { nc, subject: signingKeysChangedSubject(env.NATS_SUBJECT_PREFIX) } : undefined;
  try {
    return await fn(new TokenService({ prisma, env, logger, nats }));
  } finally {
    await nc?.drain().catch(() => {});
  }
}

function stateOf(r: { activatesAt: Date; retiredAt: Date | null; withdrawnAt: Date | null }, now: Date): string {
  if (r.withdrawnAt) return `WITHDRAWN ${r.withdrawnAt.toISOString()}`;
  if (r.activatesAt > now) return `published, signs from ${r.activatesAt.toISOString()}`;
  if (!r.retiredAt || r.retiredAt > now) return r.retiredAt ? `SIGNING until ${r.retiredAt.toISOString()}` : "SIGNING";
  return `retired ${r.retiredAt.toISOString()}`;
}

try {
  await migrate(env);
  if (command === "rotate-signing-key") {
    const kid = await withTokens((tokens) => tokens.rotate());
    const row = await prisma.signingKey.findFirstOrThrow({ where: { id: kid } });
    process.stdout.write(`new signing key: ${kid} (in the JWKS now, signs from ${row.activatesAt.toISOString()})\n`);
  } else if (command === "withdraw-signing-key") {
    const kid = process.argv[3];
    if (!kid || process.argv.length > 4) {
      process.stderr.write(USAGE);
      process.exitCode = 64;
    } else {
      const r = await withTokens((tokens) => tokens.withdraw(kid));
      if (r.alreadyWithdrawn) process.stdout.write(`${kid} was already withdrawn\n`);
      else {
        process.stdout.write(`withdrawn: ${kid} (removed from the JWKS; its tokens are refused)\n`);
        if (r.replacementKid) process.stdout.write(`now signing: ${r.replacementKid}\n`);
      }
    }
  } else if (command === "list-signing-keys") {
    const rows = await prisma.signingKey.findMany({
      orderBy: { createdAt: "desc" },
      select: { id: true, createdAt: true, activatesAt: true, retiredAt: true, withdrawnAt: true },
    });
    const now = new Date();
    for (const r of rows) process.stdout.write(`${r.id}\tcreated ${r.createdAt.toISOString()}\t${stateOf(r, now)}\n`);
  } else {
    process.stderr.write(USAGE);
    process.exitCode = 64;
  }
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
}
