/** What the customers' pages read besides reports and the overview: each report's worst finding. */
import type { Tx } from '../db.js';

/** The most severe finding of each report (ties by code, then subject), by report id. */
export async function worstFindings(
  sql: Tx,
  reportIds: string[],
): Promise<Map<string, { code: string; severity: string; subject: string; params: Record<string, unknown> }>> {
  if (!reportIds.length) return new Map();
  const rows = await sql<
    { reportId: string; code: string; severity: string; subject: string; params: Record<string, unknown> }[]
  >`
    select distinct on (report_id) report_id as "reportId", code, severity, subject, params
    from findings where report_id = any(${reportIds}::uuid[])
    order by report_id,
      case severity when 'critical' then 0 when 'warning' then 1 when 'notice' then 2 else 3 end, code, subject`;
  return new Map(rows.map(({ reportId, ...f }) => [reportId, f]));
}

/** A tenant's branding (migrations/00008_branding.sql); null fields are not set. */
export interface Branding {
  productName: string | null;
  logo: string | null;
  accentColor: string | null;
  senderName: string | null;
  senderAddress: string | null;
  footerText: string | null;
  supportUrl: string | null;
  /** Where the logo was fetched from (00017), when it was named by URL rather than uploaded. */
  logoUrl: string | null;
  logoFetchedAt: Date | null;
}

const brandingColumns = (sql: Tx) => sql`
  brand_product_name as "productName", brand_logo as logo, brand_accent as "accentColor",
  brand_sender_name as "senderName", brand_sender_address as "senderAddress", brand_footer as "footerText",
  brand_support_url as "supportUrl", brand_logo_url as "logoUrl", brand_logo_fetched_at as "logoFetchedAt"`;

export async function getBranding(sql: Tx, tenantId: string): Promise<(Branding & { tenantName: string }) | undefined> {
  const [row] = await sql<(Branding & { tenantName: string })[]>`
    select name as "tenantName", ${brandingColumns(sql)} from tenants where id = ${tenantId}`;
  return row;
}

export async function updateBranding(sql: Tx, tenantId: string, b: Branding): Promise<Branding | undefined> {
  const [row] = await sql<Branding[]>`
    update tenants set brand_product_name = ${b.productName}, brand_logo = ${b.logo}, brand_accent = ${b.accentColor},
      brand_sender_name = ${b.senderName}, brand_sender_address = ${b.senderAddress}, brand_footer = ${b.footerText},
      brand_support_url = ${b.supportUrl}, brand_logo_url = ${b.logoUrl}, brand_logo_fetched_at = ${b.logoFetchedAt}
    where id = ${tenantId} returning ${brandingColumns(sql)}`;
  return row;
}
