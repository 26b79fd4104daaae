import { jsonb, type Tx } from '../db.js';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

export async function findIdempotent(sql: Tx, tenantId: string, key: string): Promise<StoredResponse | undefined> {
  const [row] = await sql<StoredResponse[]>`
    select request_hash as "requestHash", status, body from idempotency_keys
    where tenant_id = ${tenantId} and key = ${key} and created_at > now() - interval '24 hours'`;
  return row;
}

/** Stores the response of a key; false when another request stored one first. */
export async function saveIdempotent(sql: Tx, tenantId: string, key: string, r: StoredResponse): Promise<boolean> {
  const rows = await sql`
    insert into idempotency_keys (tenant_id, key, request_hash, status, body)
    values (${tenantId}, ${key}, ${r.requestHash}, ${r.status}, ${jsonb(sql, r.body)})
    on conflict (tenant_id, key) do update set request_hash = excluded.request_hash, status = excluded.status,
      body = excluded.body, created_at = now()
      where idempotency_keys.created_at <= now() - interval '24 hours'
    returning key`;
  return rows.length > 0;
}
