/**
 * Addresses that unsubscribed from a tenant's emails (migrations/00016_unsubscribe.sql): one row
 * per tenant and address, matched without regard to case; no summary or alert of that tenant is
 * recorded for them while the row exists.
 */
import type { Tx } from '../db.js';

/** Unsubscribes `address` from the tenant's emails. True when it was subscribed until now. */
export async function optOut(sql: Tx, tenantId: string, address: string): Promise<boolean> {
  const rows = await sql`
    insert into email_opt_outs (tenant_id, address) values (${tenantId}, ${address})
    on conflict (tenant_id, lower(address)) do nothing returning 1`;
  return rows.length > 0;
}

/** Subscribes `address` again. True when it had unsubscribed. */
export async function optIn(sql: Tx, tenantId: string, address: string): Promise<boolean> {
  const rows = await sql`
    delete from email_opt_outs where tenant_id = ${tenantId} and lower(address) = lower(${address}) returning 1`;
  return rows.length > 0;
}

export async function isOptedOut(sql: Tx, tenantId: string, address: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from email_opt_outs where tenant_id = ${tenantId} and lower(address) = lower(${address})`;
  return row !== undefined;
}

/** The tenant's unsubscribed addresses, lower case (compare `address.toLowerCase()`). */
export async function optedOutAddresses(sql: Tx, tenantId: string): Promise<Set<string>> {
  const rows = await sql<{ address: string }[]>`
    select lower(address) as address from email_opt_outs where tenant_id = ${tenantId}`;
  return new Set(rows.map((r) => r.address));
}

/** The tenant's unsubscribed addresses as they unsubscribed, newest first. */
export async function listOptOuts(sql: Tx, tenantId: string): Promise<{ address: string; createdAt: Date }[]> {
  return sql<{ address: string; createdAt: Date }[]>`
    select address, created_at as "createdAt" from email_opt_outs
    where tenant_id = ${tenantId} order by created_at desc, address`;
}
