/** Postgres 23505 as Prisma reports it for model calls (P2002) and raw statements (P2010 / driver adapter). */
export function isUniqueViolation(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as {
    code?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
    message?: unknown;
  };
  if (e.code === "P2002") return true;
  if (e.meta?.code === "23505") return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind === "UniqueConstraintViolation" || cause?.originalCode === "23505") return true;
  return typeof e.message === "string" && /23505|unique constraint/i.test(e.message);
}
