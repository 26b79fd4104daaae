/**
 * The overview of a tenant's registered domains: each with the summary of its latest report
 * (grade, score, outcome, worst severity, counts by severity, last audit, trend), filtered,
 * sorted and paged by keyset. Read from `domain_summaries` (migrations/00009_overview.sql), kept
 * in step by `insertReport`; no report body is read. Used by GET /v1/domains and the tenant's
 * overview page.
 */
import type { Severity } from '@mailaudit/engine';
import type { Tx } from '../db.js';
import type { DomainRow } from './domains.js';

export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'notice', 'info'];

/** `up`/`down`/`same`: the latest conclusive score against the one before; null without two. */
export type Trend = 'up' | 'down' | 'same';

export interface DomainSummary {
  reportId: string;
  auditId: string;
  auditedAt: Date;
  /** Null for an inconclusive audit. */
  score: number | null;
  grade: string | null;
  /** `complete`, `partial` or `inconclusive`; null for a report stored before outcomes existed. */
  outcome: string | null;
  /** The most severe finding's severity; null without findings. */
  worstSeverity: Severity | null;
  counts: Record<Severity, number>;
  codes: string[];
  categories: string[];
  trend: Trend | null;
  /** Score of the conclusive report before the latest conclusive one. */
  previousScore: number | null;
  /** When the domain's conclusive reports last differed (score, grade or findings). */
  changedAt: Date;
}

export interface OverviewRow extends DomainRow {
  /** Null for a domain never audited. */
  summary: DomainSummary | null;
}

export type OverviewSort = 'domain' | 'score' | 'severity' | 'auditedAt' | 'changedAt';

export interface OverviewFilter {
  /** Any of these grades. */
  grades?: string[];
  /** With at least one finding of any of these severities. */
  severities?: Severity[];
  /** Whose worst finding has one of these severities. */
  worst?: Severity[];
  /** With a finding of any of these codes. */
  codes?: string[];
  /** With a finding in any of these categories. */
  categories?: string[];
  /** Any of these outcomes. */
  outcomes?: string[];
  /** Whose conclusive reports changed at or after this time. */
  changedSince?: Date;
  /** Audited (true) or never audited (false). */
  audited?: boolean;
  /** Names starting with this (ASCII, lower case). */
  prefix?: string;
  /** This domain only. */
  domain?: string;
}

/** A row's position in a sort: its sort value (Postgres text of a time, a number, a name) and name. */
export type OverviewKey = [string | number, string];

export interface OverviewQuery extends OverviewFilter {
  /** @default 'domain' */
  sort?: OverviewSort;
  /** @default false */
  descending?: boolean;
  limit: number;
  /** The key of the last row of the previous page. */
  after?: OverviewKey;
}

interface Raw {
  domain: string;
  nightly: boolean;
  dkimSelectors: string[];
  dkimSelectorsFound: string[];
  extraHosts: string[];
  recipients: string[];
  recipientLocales: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  reportId: string | null;
  auditId: string;
  auditedAt: Date;
  score: number | null;
  grade: string | null;
  outcome: string | null;
  worstRank: number;
  critical: number;
  warning: number;
  notice: number;
  info: number;
  codes: string[];
  categories: string[];
  lastScore: number | null;
  previousScore: number | null;
  changedAt: Date;
  sortKey: string | number;
}

/**
 * The sort value of a row. A domain never audited sorts as score -1 (an inconclusive audit too), as
 * the oldest time, and after `info` by severity (rank 5; 4 is "no finding").
 */
function sortExpr(sql: Tx, sort: OverviewSort) {
  switch (sort) {
    case 'domain':
      return sql`d.domain`;
    case 'score':
      return sql`coalesce(s.score, -1)`;
    case 'severity':
      return sql`coalesce(s.worst_rank, 5)`;
    case 'auditedAt':
      return sql`coalesce(s.audited_at, '-infinity'::timestamptz)`;
    case 'changedAt':
      return sql`coalesce(s.changed_at, '-infinity'::timestamptz)`;
  }
}

const isTime = (sort: OverviewSort) => sort === 'auditedAt' || sort === 'changedAt';

function where(sql: Tx, tenantId: string, f: OverviewFilter) {
  const parts = [sql`d.tenant_id = ${tenantId}`];
  if (f.grades?.length) parts.push(sql`s.grade = any(${f.grades}::text[])`);
  if (f.outcomes?.length) parts.push(sql`s.outcome = any(${f.outcomes}::text[])`);
  if (f.codes?.length) parts.push(sql`s.codes && ${f.codes}::text[]`);
  if (f.categories?.length) parts.push(sql`s.categories && ${f.categories}::text[]`);
  if (f.severities?.length) {
    const any = f.severities.map((v) => sql`s.${sql(v)} > 0`);
    parts.push(sql`(${any.reduce((a, b) => sql`${a} or ${b}`)})`);
  }
  if (f.worst?.length) parts.push(sql`s.worst_rank = any(${f.worst.map((v) => SEVERITIES.indexOf(v))}::smallint[])`);
  if (f.changedSince) parts.push(sql`s.changed_at >= ${f.changedSince}`);
  if (f.audited === true) parts.push(sql`s.report_id is not null`);
  if (f.audited === false) parts.push(sql`s.report_id is null`);
  if (f.domain) parts.push(sql`d.domain = ${f.domain}`);
  if (f.prefix) parts.push(sql`d.domain like ${`${f.prefix.replace(/[\\%_]/g, '\\$&')}%`}`);
  return parts.reduce((a, b) => sql`${a} and ${b}`);
}

/**
 * One page of the overview: `limit` rows after `after` in the order asked (ties by name, in the
 * same direction), each with the key to continue after it.
 */
export async function listOverview(
  sql: Tx,
  tenantId: string,
  q: OverviewQuery,
): Promise<{ row: OverviewRow; key: OverviewKey }[]> {
  const sort = q.sort ?? 'domain';
  const expr = sortExpr(sql, sort);
  const keyExpr = isTime(sort) ? sql`(${expr} at time zone 'UTC')::text` : expr;
  const dir = q.descending ? sql`desc` : sql`asc`;
  let after = sql``;
  if (q.after) {
    const [value, name] = q.after;
    const typed = isTime(sort)
      ? sql`(${String(value)}::text::timestamp at time zone 'UTC')`
      : sort === 'domain'
        ? sql`${String(value)}::text`
        : sql`${Number(value)}::int`;
    after = q.descending
      ? sql`and (${expr}, d.domain) < (${typed}, ${name}::text)`
      : sql`and (${expr}, d.domain) > (${typed}, ${name}::text)`;
  }
  const rows = await sql<Raw[]>`
    select d.domain, d.nightly, d.dkim_selectors as "dkimSelectors", d.dkim_selectors_found as "dkimSelectorsFound",
      d.extra_hosts as "extraHosts", d.recipients, d.recipient_locales as "recipientLocales", d.created_at as "createdAt", d.updated_at as "updatedAt",
      s.report_id as "reportId", s.audit_id as "auditId", s.audited_at as "auditedAt", s.score, s.grade, s.outcome,
      s.worst_rank as "worstRank", s.critical, s.warning, s.notice, s.info, s.codes, s.categories,
      s.last_score as "lastScore", s.previous_score as "previousScore", s.changed_at as "changedAt",
      ${keyExpr} as "sortKey"
    from domains d
    left join domain_summaries s on s.tenant_id = d.tenant_id and s.domain = d.domain
    where ${where(sql, tenantId, q)} ${after}
    order by ${expr} ${dir}, d.domain ${dir}
    limit ${q.limit}`;
  return rows.map((r) => ({ row: toRow(r), key: [r.sortKey, r.domain] }));
}

function trend(last: number | null, previous: number | null): Trend | null {
  if (last === null || previous === null) return null;
  return last > previous ? 'up' : last < previous ? 'down' : 'same';
}

function toRow(r: Raw): OverviewRow {
  const base: DomainRow = {
    domain: r.domain,
    nightly: r.nightly,
    dkimSelectors: r.dkimSelectors,
    dkimSelectorsFound: r.dkimSelectorsFound,
    extraHosts: r.extraHosts,
    recipients: r.recipients,
    recipientLocales: r.recipientLocales,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
  if (r.reportId === null) return { ...base, summary: null };
  return {
    ...base,
    summary: {
      reportId: r.reportId,
      auditId: r.auditId,
      auditedAt: r.auditedAt,
      score: r.score,
      grade: r.grade,
      outcome: r.outcome,
      worstSeverity: SEVERITIES[r.worstRank] ?? null,
      counts: { critical: r.critical, warning: r.warning, notice: r.notice, info: r.info },
      codes: r.codes,
      categories: r.categories,
      trend: trend(r.lastScore, r.previousScore),
      previousScore: r.previousScore,
      changedAt: r.changedAt,
    },
  };
}

/** Totals over a tenant's registered domains (for an overview's heading): by grade and worst severity. */
export async function overviewTotals(
  sql: Tx,
  tenantId: string,
): Promise<{ domains: number; audited: number; byGrade: Record<string, number>; byWorst: Record<string, number> }> {
  const rows = await sql<{ grade: string | null; worstRank: number | null; audited: boolean; n: number }[]>`
    select s.grade, s.worst_rank as "worstRank", s.report_id is not null as audited, count(*)::int as n
    from domains d left join domain_summaries s on s.tenant_id = d.tenant_id and s.domain = d.domain
    where d.tenant_id = ${tenantId}
    group by 1, 2, 3`;
  const out = { domains: 0, audited: 0, byGrade: {} as Record<string, number>, byWorst: {} as Record<string, number> };
  for (const r of rows) {
    out.domains += r.n;
    if (!r.audited) continue;
    out.audited += r.n;
    const g = r.grade ?? 'none';
    out.byGrade[g] = (out.byGrade[g] ?? 0) + r.n;
    const w = r.worstRank === null ? 'none' : (SEVERITIES[r.worstRank] ?? 'none');
    out.byWorst[w] = (out.byWorst[w] ?? 0) + r.n;
  }
  return out;
}

export interface LatestFinding {
  domain: string;
  reportId: string;
  auditedAt: Date;
  code: string;
  severity: Severity;
  category: string;
  subject: string;
  params: Record<string, unknown>;
}

/** Position of a finding in `listLatestFindings`: domain, code, subject. */
export type FindingKey = [string, string, string];

/**
 * Findings of the latest reports of a tenant's registered domains, by domain, code and subject,
 * filtered by codes, severities, categories and domains.
 */
export async function listLatestFindings(
  sql: Tx,
  tenantId: string,
  q: {
    codes?: string[];
    severities?: Severity[];
    categories?: string[];
    domain?: string;
    limit: number;
    after?: FindingKey;
  },
): Promise<LatestFinding[]> {
  const parts = [sql`d.tenant_id = ${tenantId}`];
  if (q.codes?.length) parts.push(sql`f.code = any(${q.codes}::text[]) and s.codes && ${q.codes}::text[]`);
  if (q.severities?.length) parts.push(sql`f.severity = any(${q.severities}::text[])`);
  if (q.categories?.length)
    parts.push(sql`f.category = any(${q.categories}::text[]) and s.categories && ${q.categories}::text[]`);
  if (q.domain) parts.push(sql`d.domain = ${q.domain}`);
  if (q.after)
    parts.push(sql`(d.domain, f.code, f.subject) > (${q.after[0]}::text, ${q.after[1]}::text, ${q.after[2]}::text)`);
  return sql<LatestFinding[]>`
    select d.domain, s.report_id as "reportId", s.audited_at as "auditedAt", f.code, f.severity, f.category,
      f.subject, f.params
    from domains d
    join domain_summaries s on s.tenant_id = d.tenant_id and s.domain = d.domain
    join findings f on f.report_id = s.report_id
    where ${parts.reduce((a, b) => sql`${a} and ${b}`)}
    order by d.domain, f.code, f.subject
    limit ${q.limit}`;
}
