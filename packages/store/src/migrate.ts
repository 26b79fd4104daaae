/**
 * Forward-only migrations: every `migrations/NNNNN_name.sql` not yet applied, in order, in one
 * transaction (all or nothing), under an advisory lock so that several processes starting at once
 * apply each migration once. Our own runner rather than postgres-shift: that one wants a folder per
 * migration, and takes no lock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './db.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
const LOCK_ID = 7_214_330_001;

export interface Applied {
  version: number;
  name: string;
}

export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<Applied[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{5}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const applied: Applied[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_ID})`;
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const done = new Set(
      (await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version),
    );
    for (const file of files) {
      const version = Number(file.slice(0, 5));
      if (done.has(version)) continue;
      const name = file.slice(6, -4);
      await tx.unsafe(readFileSync(join(dir, file), 'utf8'));
      await tx`insert into schema_migrations (version, name) values (${version}, ${name})`;
      applied.push({ version, name });
    }
  });
  return applied;
}

/** Creates the schema the tables go in when it does not exist yet (not `public`, which always does). */
export async function ensureSchema(sql: Sql, schema: string): Promise<void> {
  if (schema !== 'public') await sql`create schema if not exists ${sql(schema)}`;
}
