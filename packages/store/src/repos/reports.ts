/** Reports (the engine's Report, as stored) and their findings, one row each for queries by code. */
import type { Report } from '@mailaudit/engine';
import { jsonb, type Tx } from '../db.js';

export interface ReportRow {
  id: string;
  tenantId: string;
  auditId: string;
  domain: string;
  /** null when the audit was inconclusive. */
  score: number | null;
  grade: string | null;
  outcome: 'complete' | 'partial' | 'inconclusive';
  scoringVersion: number;
  createdAt: Date;
  /** Creation time at full precision, for cursors. */
  cursorAt: string;
  report: Report;
}

const columns = (sql: Tx) =>
  sql`id, tenant_id as "tenantId", audit_id as "auditId", domain, score, grade, outcome, scoring_version as "scoringVersion", created_at as "createdAt",
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

/**
 * The newest report of a domain with a verdict (not inconclusive), older than the report
 * `before` when given: what a new report is compared with.
 */
export async function latestConclusiveReport(
  sql: Tx,
  tenantId: string,
  domain: string,
  before?: string,
): Promise<ReportRow | undefined> {
  const [row] = await sql<ReportRow[]>`
    select ${columns(sql)}, report from reports
    where tenant_id = ${tenantId} and domain = ${domain} and outcome <> 'inconclusive'
      ${before ? sql`and id <> ${before} and (created_at, id) < (select created_at, id from reports where id = ${before})` : sql``}
    order by created_at desc, id desc limit 1`;
  return row;
}

/** A report by its id alone: for links whose token was already verified. */
export async function getReportById(sql: Tx, id: string): Promise<ReportRow | undefined> {
  const [row] = await sql<ReportRow[]>`select ${columns(sql)}, report from reports where id = ${id}`;
  return row;
}

/**
 * Score and grade of the last `n` reports of a report's domain up to and including that report,
 * oldest first: the score history its page draws.
 */
export async function scoreHistory(
  sql: Tx,
  reportId: string,
  n: number,
): Promise<{ at: string; score: number; grade: string }[]> {
  const rows = await sql<{ at: Date; score: number; grade: string }[]>`
    select r.created_at as at, r.score, r.grade
    from reports me join reports r on r.tenant_id = me.tenant_id and r.domain = me.domain
      and (r.created_at, r.id) <= (me.created_at, me.id)
    where me.id = ${reportId}
    order by r.created_at desc, r.id desc limit ${n}`;
  return rows.reverse().map((r) => ({ at: r.at.toISOString(), score: r.score, grade: r.grade }));
}

/** An audit's report, to be stored. */
export interface ReportToStore {
  audit: { id: string; tenantId: string; domain: string };
  report: Report;
}

/**
 * Stores audits' reports and their findings (one row each, read from the stored report itself),
 * a few statements for the lot however many there are; nothing for an audit that already has a
 * report. Returns the new reports' ids by audit id. No two may be of the same tenant and domain
 * (their order would be undefined: they share the transaction's time); rows are written in audit
 * id order, so that two such calls lock in the same order.
 */
export async function insertReports(sql: Tx, items: ReportToStore[]): Promise<Map<string, string>> {
  if (items.length === 0) return new Map();
  const rows = [...items]
    .sort((x, y) => (x.audit.id < y.audit.id ? -1 : x.audit.id > y.audit.id ? 1 : 0))
    .map(({ audit, report }) => ({
      auditId: audit.id,
      tenantId: audit.tenantId,
      domain: audit.domain,
      score: report.score,
      grade: report.grade,
      outcome: report.outcome ?? 'complete',
      scoringVersion: report.scoringVersion,
      report,
    }));
  const inserted = await sql<{ id: string; auditId: string }[]>`
    insert into reports (audit_id, tenant_id, domain, score, grade, outcome, scoring_version, report)
    select (e->>'auditId')::uuid, (e->>'tenantId')::uuid, e->>'domain', (e->>'score')::int, e->>'grade', e->>'outcome',
      (e->>'scoringVersion')::int, e->'report'
    from jsonb_array_elements(${jsonb(sql, rows)}) with ordinality as x(e, n)
    order by x.n
    on conflict (audit_id) do nothing
    returning id, audit_id as "auditId"`;
  if (inserted.length === 0) return new Map();
  const ids = inserted.map((r) => r.id);
  await sql`
    insert into findings (report_id, tenant_id, domain, code, severity, category, subject, params)
    select r.id, r.tenant_id, r.domain, f.code, f.severity, f.category, f.subject, coalesce(f.params, '{}')
    from reports r, jsonb_to_recordset(r.report->'findings')
      as f(code text, severity text, category text, subject text, params jsonb)
    where r.id = any(${ids}::uuid[])`;
  await updateSummaries(sql, ids);
  return new Map(inserted.map((r) => [r.auditId, r.id]));
}

/**
 * Stores an audit's report and its findings; nothing when the audit already has one. Returns the
 * new report's id.
 */
export async function insertReport(
  sql: Tx,
  audit: { id: string; tenantId: string; domain: string },
  report: Report,
): Promise<string | undefined> {
  return (await insertReports(sql, [{ audit, report }])).get(audit.id);
}

/**
 * For each of the reports `ids`, the newest conclusive report of its domain before it (what it is
 * compared with), by the new report's id; none for a domain without one.
 */
export async function previousConclusiveReports(sql: Tx, ids: string[]): Promise<Map<string, ReportRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<(ReportRow & { newId: string })[]>`
    select n.id as "newId", p.* from reports n
    cross join lateral (
      select ${columns(sql)}, report from reports r
      where r.tenant_id = n.tenant_id and r.domain = n.domain and r.outcome <> 'inconclusive'
        and r.id <> n.id and (r.created_at, r.id) < (n.created_at, n.id)
      order by r.created_at desc, r.id desc limit 1
    ) p
    where n.id = any(${ids}::uuid[])`;
  return new Map(rows.map(({ newId, ...row }) => [newId, row as ReportRow]));
}

/**
 * Brings each domain's summary (the overview's row, migrations/00009_overview.sql) in step with a
 * report just stored (one per domain), unless a newer report is already summarised. An inconclusive report becomes
 * the latest, but is never compared: the fingerprint, scores and change time of the last
 * conclusive report stay.
 */
async function updateSummaries(sql: Tx, reportIds: string[]): Promise<void> {
  await sql`
    insert into domain_summaries as d (
      tenant_id, domain, report_id, audit_id, audited_at, score, grade, outcome, worst_rank,
      critical, warning, notice, info, codes, categories, fingerprint, last_score, previous_score, changed_at
    )
    select s.tenant_id, s.domain, s.report_id, s.audit_id, s.audited_at, s.score, s.grade, s.outcome, s.worst_rank,
      s.critical, s.warning, s.notice, s.info, s.codes, s.categories,
      case when s.outcome is distinct from 'inconclusive' then s.fingerprint end,
      case when s.outcome is distinct from 'inconclusive' then s.score end,
      null, s.audited_at
    from report_summaries s where s.report_id = any(${reportIds}::uuid[])
    order by s.tenant_id, s.domain
    on conflict (tenant_id, domain) do update set
      report_id = excluded.report_id, audit_id = excluded.audit_id, audited_at = excluded.audited_at,
      score = excluded.score, grade = excluded.grade, outcome = excluded.outcome, worst_rank = excluded.worst_rank,
      critical = excluded.critical, warning = excluded.warning, notice = excluded.notice, info = excluded.info,
      codes = excluded.codes, categories = excluded.categories,
      fingerprint = coalesce(excluded.fingerprint, d.fingerprint),
      last_score = case when excluded.fingerprint is null then d.last_score else excluded.last_score end,
      previous_score = case when excluded.fingerprint is null then d.previous_score else d.last_score end,
      changed_at = case
        when excluded.fingerprint is null or excluded.fingerprint = d.fingerprint then d.changed_at
        else excluded.audited_at end
    where (d.audited_at, d.report_id) <= (excluded.audited_at, excluded.report_id)`;
}
