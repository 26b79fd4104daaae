import type { Tx } from '../db.js';

export interface DomainRow {
  domain: string;
  nightly: boolean;
  dkimSelectors: string[];
  extraHosts: string[];
  recipients: string[];
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Tx) =>
  sql`domain, nightly, dkim_selectors as "dkimSelectors", extra_hosts as "extraHosts", recipients, created_at as "createdAt", updated_at as "updatedAt"`;

export async function upsertDomain(
  sql: Tx,
  tenantId: string,
  d: { domain: string; nightly: boolean; dkimSelectors: string[]; extraHosts: string[]; recipients: string[] },
): Promise<{ row: DomainRow; created: boolean }> {
  const [row] = await sql<(DomainRow & { created: boolean })[]>`
    insert into domains (tenant_id, domain, nightly, dkim_selectors, extra_hosts, recipients)
    values (${tenantId}, ${d.domain}, ${d.nightly}, ${d.dkimSelectors}, ${d.extraHosts}, ${d.recipients})
    on conflict (tenant_id, domain) do update set
      nightly = excluded.nightly, dkim_selectors = excluded.dkim_selectors,
      extra_hosts = excluded.extra_hosts, recipients = excluded.recipients, updated_at = now()
    returning ${columns(sql)}, (xmax = 0) as created`;
  const { created, ...rest } = row as DomainRow & { created: boolean };
  return { row: rest, created };
}

export async function getDomain(sql: Tx, tenantId: string, domain: string): Promise<DomainRow | undefined> {
  const [row] = await sql<
    DomainRow[]
  >`select ${columns(sql)} from domains where tenant_id = ${tenantId} and domain = ${domain}`;
  return row;
}

export async function deleteDomain(sql: Tx, tenantId: string, domain: string): Promise<boolean> {
  const rows = await sql`delete from domains where tenant_id = ${tenantId} and domain = ${domain} returning domain`;
  return rows.length > 0;
}

export async function listDomains(sql: Tx, tenantId: string, limit: number, after?: string): Promise<DomainRow[]> {
  return sql<DomainRow[]>`
    select ${columns(sql)} from domains
    where tenant_id = ${tenantId} ${after ? sql`and domain > ${after}` : sql``}
    order by domain limit ${limit}`;
}

/** The domains of a tenant audited every night. */
export async function nightlyDomains(sql: Tx, tenantId: string) {
  return sql<{ domain: string; dkimSelectors: string[]; recipients: string[] }[]>`
    select domain, dkim_selectors as "dkimSelectors", recipients from domains where tenant_id = ${tenantId} and nightly order by domain`;
}
