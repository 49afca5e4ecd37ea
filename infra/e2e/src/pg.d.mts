/** The subset of pg.Client the e2e suite uses. */
export interface PgClientLike {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}
export declare const PgClient: new (config: { connectionString: string }) => PgClientLike;
