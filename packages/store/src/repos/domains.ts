import type { Tx } from '../db.js';

export interface DomainRow {
  domain: string;
  nightly: boolean;
  dkimSelectors: string[];
  /** Selectors seen signing the domain's test messages: audits check them besides `dkimSelectors`. */
  dkimSelectorsFound: string[];
  extraHosts: string[];
  recipients: string[];
  /** A recipient's own language (address -> locale), over the tenant's default. */
  recipientLocales: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Tx) =>
  sql`domain, nightly, dkim_selectors as "dkimSelectors", dkim_selectors_found as "dkimSelectorsFound", extra_hosts as "extraHosts", recipients, recipient_locales as "recipientLocales", created_at as "createdAt", updated_at as "updatedAt"`;

export async function upsertDomain(
  sql: Tx,
  tenantId: string,
  d: DomainInput,
): Promise<{ row: DomainRow; created: boolean }> {
  const [row] = await sql<(DomainRow & { created: boolean })[]>`
    insert into domains (tenant_id, domain, nightly, dkim_selectors, extra_hosts, recipients, recipient_locales)
    values (${tenantId}, ${d.domain}, ${d.nightly}, ${d.dkimSelectors}, ${d.extraHosts}, ${d.recipients},
      ${JSON.stringify(d.recipientLocales ?? {})}::text::jsonb)
    on conflict (tenant_id, domain) do update set
      nightly = excluded.nightly, dkim_selectors = excluded.dkim_selectors,
      extra_hosts = excluded.extra_hosts, recipients = excluded.recipients,
      recipient_locales = excluded.recipient_locales, updated_at = now()
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
  return sql<
    { domain: string; dkimSelectors: string[]; recipients: string[]; recipientLocales: Record<string, string> }[]
  >`
    select domain, dkim_selectors as "dkimSelectors", recipients, recipient_locales as "recipientLocales" from domains where tenant_id = ${tenantId} and nightly order by domain`;
}

/** Selectors kept from test messages per domain (the API takes at most 50 declared ones too). */
export const MAX_FOUND_SELECTORS = 50;

/**
 * Adds selectors found signing a test message of the domain (passing signatures of the domain
 * itself) to those its audits check; returns the ones that were new. Nothing for an unregistered
 * domain.
 */
export async function addFoundSelectors(
  sql: Tx,
  tenantId: string,
  domain: string,
  selectors: string[],
): Promise<string[]> {
  if (selectors.length === 0) return [];
  const [row] = await sql<{ found: string[]; declared: string[] }[]>`
    select dkim_selectors_found as found, dkim_selectors as declared from domains
    where tenant_id = ${tenantId} and domain = ${domain} for update`;
  if (!row) return [];
  const added = [...new Set(selectors)]
    .filter((s) => !row.found.includes(s) && !row.declared.includes(s))
    .slice(0, Math.max(0, MAX_FOUND_SELECTORS - row.found.length));
  if (added.length === 0) return [];
  await sql`
    update domains set dkim_selectors_found = dkim_selectors_found || ${added}::text[], updated_at = now()
    where tenant_id = ${tenantId} and domain = ${domain}`;
  return added;
}

export interface DomainInput {
  domain: string;
  nightly: boolean;
  dkimSelectors: string[];
  extraHosts: string[];
  recipients: string[];
  /** Recipient address -> locale; recipients not in it read the tenant's default. @default {} */
  recipientLocales?: Record<string, string>;
}

/**
 * Registers or updates many domains in one statement (in the caller's transaction). `merge` gives
 * each domain's new settings from its current row (undefined when not registered). Returns what
 * happened to each: created, updated, or unchanged (the same settings again touch nothing, so that
 * a repeated request is idempotent).
 */
export async function upsertDomains(
  sql: Tx,
  tenantId: string,
  domains: string[],
  merge: (domain: string, current: DomainRow | undefined) => DomainInput,
): Promise<Map<string, { row: DomainRow; status: 'created' | 'updated' | 'unchanged' }>> {
  const out = new Map<string, { row: DomainRow; status: 'created' | 'updated' | 'unchanged' }>();
  if (domains.length === 0) return out;
  const sorted = [...new Set(domains)].sort();
  const current = new Map(
    (
      await sql<DomainRow[]>`
        select ${columns(sql)} from domains
        where tenant_id = ${tenantId} and domain = any(${sorted}::text[]) order by domain for update`
    ).map((r) => [r.domain, r]),
  );
  const inputs = sorted.map((d) => merge(d, current.get(d)));
  const rows = await sql<(DomainRow & { created: boolean })[]>`
    insert into domains as d (tenant_id, domain, nightly, dkim_selectors, extra_hosts, recipients, recipient_locales)
    select ${tenantId}, i.domain, i.nightly, i.dkim_selectors, i.extra_hosts, i.recipients, i.recipient_locales
    from jsonb_to_recordset(${JSON.stringify(
      inputs.map((i) => ({
        domain: i.domain,
        nightly: i.nightly,
        dkim_selectors: i.dkimSelectors,
        extra_hosts: i.extraHosts,
        recipients: i.recipients,
        recipient_locales: i.recipientLocales ?? {},
      })),
    )}::text::jsonb) as i(domain text, nightly boolean, dkim_selectors text[], extra_hosts text[], recipients text[], recipient_locales jsonb)
    order by i.domain
    on conflict (tenant_id, domain) do update set
      nightly = excluded.nightly, dkim_selectors = excluded.dkim_selectors,
      extra_hosts = excluded.extra_hosts, recipients = excluded.recipients,
      recipient_locales = excluded.recipient_locales, updated_at = now()
    where (d.nightly, d.dkim_selectors, d.extra_hosts, d.recipients, d.recipient_locales)
      is distinct from (excluded.nightly, excluded.dkim_selectors, excluded.extra_hosts, excluded.recipients, excluded.recipient_locales)
    returning ${columns(sql)}, (xmax = 0) as created`;
  for (const { created, ...row } of rows) out.set(row.domain, { row, status: created ? 'created' : 'updated' });
  for (const [domain, row] of current) if (!out.has(domain)) out.set(domain, { row, status: 'unchanged' });
  return out;
}
