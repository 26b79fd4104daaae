/** API keys: each acts for one tenant with its scopes; only the SHA-256 of a key is stored. */
import { createHash, randomBytes } from 'node:crypto';
import type { Tx } from '../db.js';

export type Scope = 'read' | 'audit' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'audit', 'admin'];

export interface ApiKey {
  id: string;
  tenantId: string;
  prefix: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key; the key itself is returned this once and only its hash is stored. */
export async function createApiKey(sql: Tx, tenantId: string, scopes: Scope[]): Promise<{ id: string; key: string }> {
  const prefix = `mk_${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  const [row] = await sql<{ id: string }[]>`
    insert into api_keys (tenant_id, prefix, hash, scopes)
    values (${tenantId}, ${prefix}, ${hashKey(key)}, ${scopes})
    returning id`;
  return { id: (row as { id: string }).id, key };
}

/** The active key with this value, marking it used (at most once a minute). */
export async function authenticate(sql: Tx, key: string): Promise<ApiKey | undefined> {
  const [row] = await sql<ApiKey[]>`
    select id, tenant_id as "tenantId", prefix, scopes, created_at as "createdAt",
           last_used_at as "lastUsedAt", revoked_at as "revokedAt"
    from api_keys where hash = ${hashKey(key)} and revoked_at is null`;
  if (!row) return undefined;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await sql`update api_keys set last_used_at = now() where id = ${row.id}`;
  }
  return row;
}

export async function revokeApiKey(sql: Tx, id: string, tenantId?: string): Promise<boolean> {
  const rows = tenantId
    ? await sql`update api_keys set revoked_at = now() where id = ${id} and tenant_id = ${tenantId} and revoked_at is null returning id`
    : await sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

export async function listApiKeys(sql: Tx, tenantId: string): Promise<ApiKey[]> {
  return sql<ApiKey[]>`
    select id, tenant_id as "tenantId", prefix, scopes, created_at as "createdAt",
           last_used_at as "lastUsedAt", revoked_at as "revokedAt"
    from api_keys where tenant_id = ${tenantId} order by created_at`;
}
