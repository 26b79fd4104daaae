import type { Tx } from '../db.js';

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
  report: Record<string, unknown>;
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
