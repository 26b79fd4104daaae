/** What changed between a domain's report and its previous one. */
import type { ReportDiff } from '@mailaudit/render';
import { jsonb, type Tx } from '../db.js';

export interface ChangeRow {
  id: string;
  domain: string;
  reportId: string;
  previousReportId: string | null;
  nightlyRunId: string | null;
  regressed: boolean;
  changed: boolean;
  diff: ReportDiff;
  createdAt: Date;
}

const changeColumns = (sql: Tx) => sql`
  id, domain, report_id as "reportId", previous_report_id as "previousReportId", nightly_run_id as "nightlyRunId",
  regressed, changed, diff, created_at as "createdAt"`;

export async function saveChange(
  sql: Tx,
  c: Omit<ChangeRow, 'id' | 'createdAt'> & { tenantId: string },
): Promise<ChangeRow | undefined> {
  const [row] = await sql<ChangeRow[]>`
    insert into changes (tenant_id, domain, report_id, previous_report_id, nightly_run_id, regressed, changed, diff)
    values (${c.tenantId}, ${c.domain}, ${c.reportId}, ${c.previousReportId}, ${c.nightlyRunId}, ${c.regressed}, ${c.changed}, ${jsonb(sql, c.diff)})
    on conflict (report_id) do nothing returning ${changeColumns(sql)}`;
  return row;
}

/** A domain's changes, newest first, after the cursor position `after` (creation time and id). */
export async function listChanges(
  sql: Tx,
  tenantId: string,
  domain: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<(ChangeRow & { cursorAt: string })[]> {
  return sql<(ChangeRow & { cursorAt: string })[]>`
    select ${changeColumns(sql)}, (created_at at time zone 'UTC')::text as "cursorAt" from changes
    where tenant_id = ${tenantId} and domain = ${domain} ${after ? sql`and (created_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by created_at desc, id desc limit ${limit}`;
}

export async function changesOfRun(sql: Tx, runId: string): Promise<ChangeRow[]> {
  return sql<ChangeRow[]>`select ${changeColumns(sql)} from changes where nightly_run_id = ${runId} order by domain`;
}
