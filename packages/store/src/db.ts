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
  /** Longest a statement may run, enforced by the server (`statement_timeout`). @default 15000 */
  statementTimeoutMs?: number;
  /** Longest a new connection may take, in seconds. @default 5 */
  connectTimeoutSeconds?: number;
}

export function createSql(url: string, opts: DbOptions = {}): Sql {
  const connection: Record<string, string> = { application_name: 'mailaudit' };
  if (opts.schema && opts.schema !== 'public') connection.search_path = opts.schema;
  // Every query has a bound: the server cancels a statement past statement_timeout, a connection
  // that does not open in time fails, and a lock waited for past lock_timeout fails.
  connection.statement_timeout = String(opts.statementTimeoutMs ?? 15_000);
  connection.lock_timeout = String(opts.statementTimeoutMs ?? 15_000);
  connection.idle_in_transaction_session_timeout = String(4 * (opts.statementTimeoutMs ?? 15_000));
  return postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutSeconds ?? 5,
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

/**
 * SQLSTATE classes and postgres.js/socket codes that mean "the database cannot be reached or is
 * going away" (transient: answer 503, retry the job), as opposed to a query's own error.
 * 08: connection exception; 57P01-57P05: admin shutdown, crash shutdown, cannot connect now, database
 * dropped, idle session timeout; 53300: too many connections; 57014: query canceled (statement_timeout).
 */
const UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '53300',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P04',
  '57P05',
]);

/** Whether `err` says the database is unreachable or going away, rather than that the query was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return UNAVAILABLE_CODES.has(code) || code.startsWith('08');
}

/**
 * Whether `err` is Postgres refusing a value (SQLSTATE class 22, data exception: a timestamp out of
 * range, text that is not a uuid): input that passed validation but not the database.
 */
export function isDataException(err: unknown): boolean {
  return err instanceof postgres.PostgresError && err.code.startsWith('22');
}
