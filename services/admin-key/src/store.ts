import type { Prisma, PrismaClient } from "./generated/prisma/client.js";

/**
 * What writing use cases need of `AppDeps`: Prisma, and a hook called after a transaction that
 * wrote outbox rows has committed (the service kicks its OutboxRelay; the CLI leaves the rows to
 * the running service). Reading use cases need only `prisma` (`Reader`).
 */
export interface Store {
  prisma: PrismaClient;
  afterCommit(): void;
}

export type Reader = Pick<Store, "prisma">;

export type Tx = Prisma.TransactionClient;
