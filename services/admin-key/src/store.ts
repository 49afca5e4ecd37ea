import type { Prisma, PrismaClient } from "./generated/prisma/client.js";

/**
 * What use cases need: Prisma, and a hook called after a transaction that wrote outbox rows has
 * committed (the service kicks its OutboxRelay; the CLI leaves the rows to the running service).
 */
export interface Store {
  prisma: PrismaClient;
  afterCommit(): void;
}

export type Tx = Prisma.TransactionClient;
