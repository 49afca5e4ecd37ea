import { connectNats, createLogger, loadEnvOrExit, type NatsConnection, pgPoolConfig } from "@authplane/service-kit";
import { PrismaPg } from "@prisma/adapter-pg";
import { Env } from "./env.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { migrate } from "./migrate.js";
import { signingKeysChangedSubject, TokenService } from "./tokens/token-service.js";

/**
 * Operator commands:
 *   node dist/cli.js rotate-signing-key   create a new active signing key now (old keys keep
 *                                         verifying until their tokens expire; other instances
 *                                         pick it up within SIGNING_KEY_REFRESH_SECONDS)
 *   node dist/cli.js list-signing-keys    kid, created, retired (never key material)
 */
const command = process.argv[2];
const env = loadEnvOrExit(Env);
const logger = createLogger({ name: "consumer-auth-cli", level: "warn" });
const prisma = new PrismaClient({
  adapter: new PrismaPg(pgPoolConfig(env.DATABASE_URL, env.DATABASE_SCHEMA, 1), { schema: env.DATABASE_SCHEMA }),
});

try {
  await migrate(env);
  if (command === "rotate-signing-key") {
    // Best effort: announce the new key so running instances reload now (else within SIGNING_KEY_REFRESH_SECONDS).
    const nc: NatsConnection | null = await connectNats(env.NATS_URL, "consumer-auth-cli").catch(() => null);
    const nats = nc ? { nc, subject: signingKeysChangedSubject(env.NATS_SUBJECT_PREFIX) } : undefined;
    const tokens = new TokenService({ prisma, env, logger, nats });
    const kid = await tokens.rotate();
    await nc?.drain().catch(() => {});
    process.stdout.write(`new active signing key: ${kid}\n`);
  } else if (command === "list-signing-keys") {
    const rows = await prisma.signingKey.findMany({
      orderBy: { createdAt: "desc" },
      select: { id: true, createdAt: true, retiredAt: true },
    });
    for (const r of rows)
      process.stdout.write(
        `${r.id}\tcreated ${r.createdAt.toISOString()}\t${r.retiredAt ? `retired ${r.retiredAt.toISOString()}` : "ACTIVE"}\n`,
      );
  } else {
    process.stderr.write("usage: node dist/cli.js rotate-signing-key | list-signing-keys\n");
    process.exitCode = 64;
  }
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
}
