/**
 * The one postgres.js instance of a process. Repository functions take it (or a transaction of
 * it) as their first argument.
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
