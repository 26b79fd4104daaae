/**
 * The nightly summary email of one recipient: its domains with grade, score and trend, what
 * changed since the previous night (worse first), what the first audit of a domain found, which
 * domains could not be checked tonight, links to each report; a plain-text part and an HTML part
 * with inline styles only (what common mail clients render). Pure.
 *
 * Two steps: `summaryData` decides what goes in the summary (which domain is worse, better,
 * changed, new, unchanged or unchecked: the data), `renderSummary` (emails.ts) words it in the
 * recipient's language, from the templates.
 */
import type { Finding } from '@mailaudit/engine';
import type { ReportDiff } from './diff.js';

export interface SummaryDomain {
  domain: string;
  /** null when the domain could not be checked tonight. */
  grade: string | null;
  score: number | null;
  /** Score change since the previous conclusive report, over the categories checked in both; null for the first. */
  scoreChange: number | null;
  previousGrade: string | null;
  reportUrl: string;
  /** null when there was no previous conclusive report to compare with (the first audit). */
  diff: ReportDiff | null;
  /** The audit failed: no report this night. */
  failed?: string;
  /** The audit was inconclusive (the resolvers failed): nothing is known about the domain tonight. */
  unchecked?: boolean;
  /** For a first audit: what it found (critical and warning findings are listed). */
  findings?: Finding[];
}

/** Where a domain stands in tonight's summary. */
export type SummaryKind = 'worse' | 'better' | 'changed' | 'first' | 'unchecked' | 'unchanged';

/** What a summary says, before any wording: the domains by kind, in the order they are shown. */
export interface SummaryData {
  tenant: string;
  night: string;
  worse: SummaryDomain[];
  better: SummaryDomain[];
  changed: SummaryDomain[];
  first: SummaryDomain[];
  unchecked: SummaryDomain[];
  unchanged: SummaryDomain[];
  /** Every domain, in the order of the kinds above, by name within each. */
  all: SummaryDomain[];
  /** Whether there is anything to tell beyond "nothing changed". */
  newsworthy: boolean;
}

export interface Summary {
  subject: string;
  text: string;
  html: string;
  changed: boolean;
}

export function kindOf(d: SummaryDomain): SummaryKind {
  if (d.failed || d.unchecked || d.score === null) return 'unchecked';
  if (!d.diff) return 'first';
  if (d.diff.regressed) return 'worse';
  if (d.diff.improved) return 'better';
  if (d.diff.different) return 'changed';
  return 'unchanged';
}

const KINDS: SummaryKind[] = ['worse', 'better', 'changed', 'first', 'unchecked', 'unchanged'];

export function summaryData(tenant: string, night: string, domains: SummaryDomain[]): SummaryData {
  const by = (k: SummaryKind) =>
    domains.filter((d) => kindOf(d) === k).sort((a, b) => a.domain.localeCompare(b.domain));
  const data = {
    tenant,
    night,
    worse: by('worse'),
    better: by('better'),
    changed: by('changed'),
    first: by('first'),
    unchecked: by('unchecked'),
    unchanged: by('unchanged'),
  };
  const all = KINDS.flatMap((k) => data[k]);
  return { ...data, all, newsworthy: all.some((d) => kindOf(d) !== 'unchanged') };
}
