/**
 * The one postgres.js instance of a process. Repository functions take it (or a transaction of
 * it) as their first argument, so that they work inside `sql.begin(...)` too.
 */
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>> | Sql;

export interface DbOptions {
  /** Schema the tables live in (tests use one per file). @default 'public' */
  schema?: string;
  /** @default 10 */
  max?: number;
}

export function createSql(url: string, opts: DbOptions = {}): Sql {
  const connection: Record<string, string> = { application_name: 'mailaudit' };
  if (opts.schema && opts.schema !== 'public') connection.search_path = opts.schema;
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection,
    transform: { undefined: null },
  }) as Sql;
}

/**
 * A value stored as jsonb: serialized here and sent as text that Postgres casts, so that a typed
 * value (a report, a diff, a payload) goes in as it is, without being forced into postgres.js's JSON
 * type. (A parameter Postgres sees as jsonb would be serialized by postgres.js a second time.)
 */
export function jsonb(sql: Tx, value: unknown) {
  return sql`${JSON.stringify(value)}::text::jsonb`;
}

/** Whether the database answers (for readiness). */
export async function ping(sql: Tx): Promise<void> {
  await sql`select 1`;
}
