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
