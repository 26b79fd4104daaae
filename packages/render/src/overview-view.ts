/**
 * What the tenant's overview page shows: every domain with grade, score, trend, worst finding and
 * last audit, in the order and with the grade filter the query string asked (the server sorts and
 * filters; the page only lays it out). Pure.
 */
import { GRADES } from '@mailaudit/engine';
import { gradeClass } from './report-view.js';
import { displayDomain, findingText, formatDate, type Locale, t } from './texts.js';

export interface OverviewItem {
  domain: string;
  grade: string | null;
  score: number | null;
  trend: 'up' | 'down' | 'same' | null;
  previousScore: number | null;
  worst: { code: string; severity: string; params: Record<string, unknown> } | null;
  auditedAt: Date | string | null;
  /** Link to the latest report's page; null for a domain never audited. */
  reportUrl: string | null;
}

export type OverviewSortKey = 'domain' | 'score' | 'severity' | 'auditedAt';

export interface OverviewState {
  sort: OverviewSortKey;
  descending: boolean;
  /** Grades shown; empty: all. */
  grades: string[];
  /** The query string that keeps the link valid (expiry, token, language). */
  keep: Record<string, string>;
  /** The page's own path. */
  path: string;
  /** More domains exist than the page shows. */
  truncated: boolean;
  total: number;
}

const href = (path: string, q: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return `${path}?${p}`;
};

export function overviewView(items: OverviewItem[], state: OverviewState, locale: Locale, timeZone: string) {
  const L = (k: string, p?: Record<string, unknown>) => t(locale, `ui.overview.${k}`, p);
  const columns = (['domain', 'score', 'severity', 'auditedAt'] as const).map((key) => {
    const active = state.sort === key;
    const descending = active ? !state.descending : key !== 'domain';
    return {
      key,
      label: L(`column.${key}`),
      active,
      ariaSort: active ? (state.descending ? 'descending' : 'ascending') : 'none',
      href: href(state.path, {
        ...state.keep,
        sort: key,
        dir: descending ? 'desc' : 'asc',
        ...(state.grades.length ? { grade: state.grades } : {}),
      }),
    };
  });
  return {
    columns,
    grades: GRADES.map((g) => ({ grade: g, checked: state.grades.includes(g) })),
    keep: Object.entries(state.keep).map(([name, value]) => ({ name, value })),
    sort: state.sort,
    dir: state.descending ? 'desc' : 'asc',
    count: L('count', { shown: items.length, total: state.total }),
    truncated: state.truncated,
    rows: items.map((i) => ({
      domain: displayDomain(i.domain),
      grade: i.grade ?? '—',
      gradeClass: gradeClass(i.grade ?? ''),
      score: i.score,
      trend: i.trend,
      trendText: i.trend
        ? L(`trend.${i.trend}`, { previous: i.previousScore ?? 0, score: i.score ?? 0 })
        : L('trend.none'),
      worst: i.worst
        ? {
            severity: i.worst.severity,
            severityName: t(locale, `ui.severityName.${i.worst.severity}`),
            title: findingText(locale, { code: i.worst.code, params: i.worst.params }, timeZone).title,
          }
        : null,
      audited: i.auditedAt
        ? { iso: new Date(i.auditedAt).toISOString(), text: formatDate(locale, i.auditedAt, timeZone) }
        : null,
      reportUrl: i.reportUrl,
    })),
  };
}
