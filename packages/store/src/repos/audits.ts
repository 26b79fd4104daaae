/** Audits: accepted, queued, run, done or failed. */
import type { Report } from '@mailaudit/engine';
import { jsonb, type Sql, type Tx } from '../db.js';
import { insertReports, type ReportToStore } from './reports.js';

export type AuditStatus = 'queued' | 'running' | 'done' | 'failed';

export interface AuditOptionsRow {
  dkimSelectors?: string[];
  extraHosts?: string[];
}

export interface AuditRow {
  id: string;
  tenantId: string;
  domain: string;
  status: AuditStatus;
  source: 'api' | 'nightly';
  options: AuditOptionsRow;
  attempts: number;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  reportId: string | null;
  nightlyRunId: string | null;
  /**
   * Creation time at full precision, for cursors: a Date keeps only milliseconds, and postgres.js
   * serializes a parameter it sees typed as a timestamp through Date (hence the ::text casts).
   */
  cursorAt: string;
}

const auditColumns = (sql: Tx) => sql`
  a.id, a.tenant_id as "tenantId", a.domain, a.status, a.source, a.options, a.attempts, a.error,
  a.created_at as "createdAt", a.started_at as "startedAt", a.finished_at as "finishedAt",
  (select r.id from reports r where r.audit_id = a.id) as "reportId",
  a.nightly_run_id as "nightlyRunId",
  (a.created_at at time zone 'UTC')::text as "cursorAt"`;

export async function createAudits(
  sql: Tx,
  tenantId: string,
  items: { domain: string; options: AuditOptionsRow }[],
  source: 'api' | 'nightly' = 'api',
  nightlyRunId: string | null = null,
): Promise<AuditRow[]> {
  if (items.length === 0) return [];
  const inserted = await sql<{ id: string }[]>`
    insert into audits (tenant_id, domain, options, source, nightly_run_id)
    select ${tenantId}, e.item->>'domain', e.item->'options', ${source}, ${nightlyRunId}
    from jsonb_array_elements(${jsonb(sql, items)}) with ordinality as e(item, n)
    order by e.n
    returning id`;
  const ids = inserted.map((r) => r.id);
  const rows = new Map(
    (await sql<AuditRow[]>`select ${auditColumns(sql)} from audits a where a.id = any(${ids}::uuid[])`).map((r) => [
      r.id,
      r,
    ]),
  );
  return ids.flatMap((id) => rows.get(id) ?? []);
}

export async function getAudit(sql: Tx, tenantId: string | null, id: string): Promise<AuditRow | undefined> {
  const [row] = await sql<AuditRow[]>`
    select ${auditColumns(sql)} from audits a
    where a.id = ${id} ${tenantId ? sql`and a.tenant_id = ${tenantId}` : sql``}`;
  return row;
}

export interface AuditFilter {
  domain?: string;
  status?: AuditStatus;
  since?: Date;
  until?: Date;
  /** Rows strictly after this position (newest first). */
  after?: { cursorAt: string; id: string };
  limit: number;
}

export async function listAudits(sql: Tx, tenantId: string, f: AuditFilter): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    select ${auditColumns(sql)} from audits a
    where a.tenant_id = ${tenantId}
      ${f.domain ? sql`and a.domain = ${f.domain}` : sql``}
      ${f.status ? sql`and a.status = ${f.status}` : sql``}
      ${f.since ? sql`and a.created_at >= ${f.since}` : sql``}
      ${f.until ? sql`and a.created_at < ${f.until}` : sql``}
      ${f.after ? sql`and (a.created_at, a.id) < ((${f.after.cursorAt}::text::timestamp at time zone 'UTC'), ${f.after.id}::uuid)` : sql``}
    order by a.created_at desc, a.id desc
    limit ${f.limit}`;
}

/** What a tenant registered for an audit's domain that the audit uses (domains.ts). */
export interface AuditRegistration {
  dkimSelectors: string[];
  dkimSelectorsFound: string[];
  extraHosts: string[];
}

/**
 * Marks an audit as taken by a worker and returns it, with what its tenant registered for its
 * domain (undefined when nothing), in one round trip; undefined when the audit is already
 * finished (nothing to do).
 */
export async function markRunning(
  sql: Tx,
  id: string,
): Promise<(AuditRow & { registered: AuditRegistration | undefined }) | undefined> {
  const [row] = await sql<(AuditRow & { registered: AuditRegistration | null })[]>`
    with a as (
      update audits set status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
      where id = ${id} and status in ('queued', 'running') returning *
    )
    select ${auditColumns(sql)},
      (select json_build_object('dkimSelectors', d.dkim_selectors, 'dkimSelectorsFound', d.dkim_selectors_found,
        'extraHosts', d.extra_hosts) from domains d where d.tenant_id = a.tenant_id and d.domain = a.domain) as registered
    from a`;
  return row ? { ...row, registered: row.registered ?? undefined } : undefined;
}

/** What ending an audit did. */
export interface AuditEnd {
  /** The audit was queued or running: this call ended it (it is counted once, done or failed). */
  ended: boolean;
  /**
   * The night it ended in (null when it did not end now, or has none): once this has committed,
   * ask whether that night has ended (`nightEnded`).
   */
  runId: string | null;
}

/**
 * Marks audits `done` or `failed`. An audit ends once, however many workers finish or fail it; a
 * done audit stays done. Nothing else is written: the night counts its open audits itself. Rows
 * are locked in id order, so that two such calls never wait for each other in a cycle.
 */
async function endAudits(
  sql: Tx,
  ids: string[],
  to: 'done' | 'failed',
  error: string | null,
): Promise<Map<string, AuditEnd>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: string; was: AuditStatus; runId: string | null }[]>`
    with prev as (
      select id, status, nightly_run_id from audits
      where id = any(${ids}::uuid[]) and ${to === 'failed' ? sql`status <> 'done'` : sql`true`}
      order by id
      for update
    )
    update audits a set status = ${to}, error = ${error}, finished_at = now(), updated_at = now()
    from prev where a.id = prev.id
    returning a.id, prev.status as was, prev.nightly_run_id as "runId"`;
  const ends = new Map<string, AuditEnd>();
  for (const row of rows) {
    const ended = row.was === 'queued' || row.was === 'running';
    ends.set(row.id, { ended, runId: ended ? row.runId : null });
  }
  return ends;
}

const notEnded: AuditEnd = { ended: false, runId: null };

/**
 * Stores audits' reports, their findings and the audits' status (in the caller's transaction),
 * a few statements for the lot. A second completion of the same audit (a worker thought dead that
 * finishes after all) stores nothing: one report per audit. Returns, by audit id, the new report
 * and how the audit ended; an audit whose report was already stored is absent.
 */
export async function completeAudits(
  sql: Tx,
  items: ReportToStore[],
): Promise<Map<string, AuditEnd & { reportId: string }>> {
  const reports = await insertReports(sql, items);
  const ends = await endAudits(sql, [...reports.keys()], 'done', null);
  return new Map(
    [...reports].map(([auditId, reportId]) => [auditId, { reportId, ...(ends.get(auditId) ?? notEnded) }]),
  );
}

/** One audit's {@link completeAudits}: undefined when its report was already stored. */
export async function completeAudit(
  sql: Tx,
  audit: { id: string; tenantId: string; domain: string },
  report: Report,
): Promise<(AuditEnd & { reportId: string }) | undefined> {
  return (await completeAudits(sql, [{ audit, report }])).get(audit.id);
}

/** Marks an audit failed (a done one stays done). */
export async function failAudit(sql: Tx, id: string, error: string): Promise<AuditEnd> {
  return (await endAudits(sql, [id], 'failed', error.slice(0, 2000))).get(id) ?? notEnded;
}

/** Audits accepted but not finished and untouched for a while: to be queued again (nothing lost). */
export async function staleAudits(
  sql: Tx,
  olderThanMs: number,
  limit = 500,
): Promise<{ id: string; attempts: number }[]> {
  return sql<{ id: string; attempts: number }[]>`
    select id, attempts from audits
    where status in ('queued', 'running') and updated_at < now() - ${`${olderThanMs} milliseconds`}::interval
    order by updated_at limit ${limit}`;
}

export async function touchAudit(sql: Tx, id: string): Promise<void> {
  await sql`update audits set updated_at = now() where id = ${id}`;
}

export async function auditCounts(sql: Tx): Promise<Record<AuditStatus, number>> {
  const rows = await sql<
    { status: AuditStatus; n: number }[]
  >`select status, count(*)::int as n from audits group by status`;
  const out: Record<AuditStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export interface RunAudit {
  id: string;
  domain: string;
  status: string;
  error: string | null;
  /** Its report's outcome once done; null before, or when it failed. */
  outcome: 'complete' | 'partial' | 'inconclusive' | null;
  reportId: string | null;
}

/** A run's audits, by domain, the newest first within a domain (a held night audits a domain again). */
export async function runAudits(sql: Tx, runId: string): Promise<RunAudit[]> {
  return sql<RunAudit[]>`
    select a.id, a.domain, a.status, a.error, r.outcome, r.id as "reportId"
    from audits a left join reports r on r.audit_id = a.id
    where a.nightly_run_id = ${runId} order by a.domain, a.created_at desc, a.id desc`;
}

/**
 * Takes back audits that were stored but could not be queued (the API's 503): those still queued
 * are deleted, with the Idempotency-Key response that named them, in one transaction. Returns how
 * many were deleted; one a worker already took (through the sweeper) stays.
 */
export async function discardQueuedAudits(
  sql: Sql,
  tenantId: string,
  ids: string[],
  idempotencyKey?: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  return sql.begin(async (tx) => {
    const gone = await tx`
      delete from audits where tenant_id = ${tenantId} and id in ${tx(ids)} and status = 'queued' returning id`;
    if (idempotencyKey)
      await tx`delete from idempotency_keys where tenant_id = ${tenantId} and key = ${idempotencyKey}`;
    return gone.length;
  });
}

/** Audits of a tenant waiting or running: its backlog, for quotas and fair scheduling. */
export async function tenantBacklog(sql: Tx, tenantId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from audits where tenant_id = ${tenantId} and status in ('queued', 'running')`;
  return row?.n ?? 0;
}
