import pg from "pg";

export type PgPool = pg.Pool;

/**
 * Client-side bound on one query (pg `query_timeout`): when the connection hangs (network
 * partition), the server-side statement_timeout never fires and a query would wait forever; this
 * rejects it ("Query read timeout", classified as a Postgres outage -> 503) and the pool discards
 * the connection. Part of pgPoolConfig.
 */
export const PG_QUERY_TIMEOUT_MS = 3_000;

/**
 * The one set of pool settings every Postgres pool of a service uses: the raw pools of
 * createPgPool and the pools Prisma's adapter builds (`new PrismaPg(pgPoolConfig(...), { schema })`),
 * so a timeout added here reaches every query path at once.
 */
export function pgPoolConfig(databaseUrl: string, schema: string, max = 10): pg.PoolConfig {
  assertSchemaName(schema);
  return {
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    // Fail a stuck statement rather than hang a request.
    statement_timeout: 5_000,
    // Client-side bound too: statement_timeout cannot fire when the network path hangs.
    query_timeout: PG_QUERY_TIMEOUT_MS,
    options: `-c search_path="${schema}"`,
  };
}

/** A pooled Postgres connection whose search_path is the service's own schema. */
export function createPgPool(databaseUrl: string, schema: string, max = 10): pg.Pool {
  const pool = new pg.Pool(pgPoolConfig(databaseUrl, schema, max));
  // A broken idle connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return pool;
}

export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid Postgres schema name: ${schema}`);
}

/** Quoted identifier for a validated schema name. */
export function qi(schema: string): string {
  assertSchemaName(schema);
  return `"${schema}"`;
}
