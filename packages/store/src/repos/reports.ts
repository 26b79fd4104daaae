/** Reports (the engine's Report, as stored) and their findings, one row each for queries by code. */
import type { Report } from '@mailaudit/engine';
import { jsonb, type Tx } from '../db.js';

export interface ReportRow {
  id: string;
  auditId: string;
  domain: string;
  score: number;
  grade: string;
  scoringVersion: number;
  createdAt: Date;
  /** Creation time at full precision, for cursors. */
  cursorAt: string;
  report: Report;
}

const columns = (sql: Tx) =>
  sql`id, audit_id as "auditId", domain, score, grade, scoring_version as "scoringVersion", created_at as "createdAt",
      (created_at at time zone 'UTC')::text as "cursorAt"`;

export async function getReportByAudit(sql: Tx, tenantId: string, auditId: string): Promise<ReportRow | undefined> {
  const [row] = await sql<
    ReportRow[]
  >`select ${columns(sql)}, report from reports where tenant_id = ${tenantId} and audit_id = ${auditId}`;
  return row;
}

export async function getReport(sql: Tx, tenantId: string, domain: string, id: string): Promise<ReportRow | undefined> {
  const [row] = await sql<ReportRow[]>`
    select ${columns(sql)}, report from reports where tenant_id = ${tenantId} and domain = ${domain} and id = ${id}`;
  return row;
}

/** A domain's reports, newest first, without the report bodies. */
export async function listReports(
  sql: Tx,
  tenantId: string,
  domain: string,
  limit: number,
  after?: { cursorAt: string; id: string },
): Promise<Omit<ReportRow, 'report'>[]> {
  return sql<Omit<ReportRow, 'report'>[]>`
    select ${columns(sql)} from reports
    where tenant_id = ${tenantId} and domain = ${domain}
      ${after ? sql`and (created_at, id) < ((${after.cursorAt}::text::timestamp at time zone 'UTC'), ${after.id}::uuid)` : sql``}
    order by created_at desc, id desc limit ${limit}`;
}

/** The newest `n` full reports of a domain, newest first. */
export async function latestReports(sql: Tx, tenantId: string, domain: string, n: number): Promise<ReportRow[]> {
  return sql<ReportRow[]>`
    select ${columns(sql)}, report from reports where tenant_id = ${tenantId} and domain = ${domain}
    order by created_at desc, id desc limit ${n}`;
}

/** A report by its id alone: for links whose token was already verified. */
export async function getReportById(sql: Tx, id: string): Promise<ReportRow | undefined> {
  const [row] = await sql<ReportRow[]>`select ${columns(sql)}, report from reports where id = ${id}`;
  return row;
}

/**
 * Stores an audit's report and its findings (one row each, read from the stored report itself);
 * nothing when the audit already has one. Returns the new report's id.
 */
export async function insertReport(
  sql: Tx,
  audit: { id: string; tenantId: string; domain: string },
  report: Report,
): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into reports (audit_id, tenant_id, domain, score, grade, scoring_version, report)
    values (${audit.id}, ${audit.tenantId}, ${audit.domain}, ${report.score}, ${report.grade}, ${report.scoringVersion}, ${jsonb(sql, report)})
    on conflict (audit_id) do nothing
    returning id`;
  if (!row) return undefined;
  await sql`
    insert into findings (report_id, tenant_id, domain, code, severity, category, subject, params)
    select r.id, r.tenant_id, r.domain, f.code, f.severity, f.category, f.subject, coalesce(f.params, '{}')
    from reports r, jsonb_to_recordset(r.report->'findings')
      as f(code text, severity text, category text, subject text, params jsonb)
    where r.id = ${row.id}`;
  return row.id;
}
