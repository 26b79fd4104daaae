/**
 * The one scoring table (docs/scoring.md explains it and where the numbers come from).
 * Deterministic: the same categories and findings always give the same score and grade.
 * Monotonic: removing a finding never lowers a category's score, the overall score or the grade.
 * The grade is a function of the score alone (`gradeOf`); what limits a verdict (a critical
 * finding, a domain that cannot receive mail) caps the score, and so the grade with it.
 */
import type { CategoryId, CategoryResult, CategoryStatus, Finding, Grade, Outcome, Report, Severity } from './types.js';

/** Bumped whenever a number below changes; stored with every report. Version 1 is in `V1`. */
export const SCORING_VERSION = 2;

/**
 * Weight of each category in the overall score (they add up to 100). `domain` carries none: its
 * failures are caps. BIMI carries none: no receiver requires it for delivery.
 */
export const WEIGHTS: Record<CategoryId, number> = {
  domain: 0,
  mx: 15,
  spf: 15,
  dkim: 15,
  dmarc: 15,
  transport: 15,
  blocklist: 15,
  'mta-sts': 4,
  dnssec: 4,
  'tls-rpt': 2,
  bimi: 0,
};

/** Points a category loses per finding, by severity; a category never goes below 0. */
export const DEDUCTIONS: Record<Severity, number> = {
  critical: 60,
  warning: 25,
  notice: 10,
  info: 0,
};

/** The grade table: each grade's range of scores, best first. The grade is the row of the score. */
export const GRADE_TABLE: readonly { grade: Grade; min: number; max: number }[] = [
  { grade: 'A+', min: 95, max: 100 },
  { grade: 'A', min: 90, max: 94 },
  { grade: 'B', min: 80, max: 89 },
  { grade: 'C', min: 70, max: 79 },
  { grade: 'D', min: 60, max: 69 },
  { grade: 'F', min: 0, max: 59 },
];

/**
 * The highest score a report may have, by what it found: a cap moves the score down into the
 * range of the grade it allows, so score and grade never disagree.
 */
export const CAPS = {
  /** A+ means nothing left to fix: any warning keeps a report in A at best. */
  warning: 94,
  /** Any critical finding: D at best. */
  critical: 69,
  /** The domain cannot receive mail: F. */
  cannotReceive: 59,
} as const;

/** Codes that mean the domain cannot receive mail: the score is capped into F. */
export const CANNOT_RECEIVE = new Set(['domain.not_found', 'mx.missing', 'domain.dns_failed']);

/**
 * Codes that say what could not be known, not what is wrong: no deduction and no cap (the
 * category whose lookup failed is left out of the score instead).
 */
export const UNKNOWN_CODES = new Set(['dns.lookup_failed', 'audit.inconclusive', 'smtp.not_checked']);

/**
 * Codes whose category could not be checked in that report, whatever its status says (a critical
 * finding of the same category makes it `fail`): the report is `partial`, and a diff does not
 * compare the category.
 */
export const NOT_CHECKED_CODES = new Set(['dns.lookup_failed', 'smtp.not_checked']);

/** The grade of a score, by GRADE_TABLE. */
export function gradeOf(score: number): Grade {
  const row = GRADE_TABLE.find((r) => score >= r.min) ?? GRADE_TABLE[GRADE_TABLE.length - 1];
  return (row as (typeof GRADE_TABLE)[number]).grade;
}

export interface CategoryInput {
  id: CategoryId;
  /** `error`: a lookup the category needed failed; `skipped`: not applicable or turned off. */
  condition: 'checked' | 'error' | 'skipped';
}

export function categoryStatus(condition: CategoryInput['condition'], findings: Finding[]): CategoryStatus {
  if (condition === 'skipped') return 'skipped';
  if (findings.some((f) => f.severity === 'critical')) return 'fail';
  if (condition === 'error') return 'error';
  if (findings.some((f) => f.severity === 'warning' && !UNKNOWN_CODES.has(f.code))) return 'warn';
  return 'pass';
}

/** 100 less the deductions of the category's findings (what could not be known costs nothing). */
export function categoryScore(findings: Finding[]): number {
  const lost = findings.reduce((sum, f) => sum + (UNKNOWN_CODES.has(f.code) ? 0 : DEDUCTIONS[f.severity]), 0);
  return Math.max(0, 100 - lost);
}

export interface Scored {
  score: number;
  grade: Grade;
  categories: CategoryResult[];
  /** Categories that could not be checked (a lookup failed) and are not in the score. */
  leftOut: CategoryId[];
}

/**
 * Overall score: the weighted mean of the scores of the categories checked (skipped ones and
 * those whose lookups failed are left out), rounded; 0 when no weighted category could be
 * checked. Then capped (CAPS): by any warning, any critical finding, and to F when the domain
 * cannot receive mail (CANNOT_RECEIVE, or every MX target unusable). The grade is `gradeOf(score)`.
 */
export function score(inputs: CategoryInput[], findings: Finding[], cannotReceive = false): Scored {
  const categories: CategoryResult[] = inputs.map((c) => {
    const own = findings.filter((f) => f.category === c.id);
    return {
      id: c.id,
      score: c.condition === 'skipped' ? 100 : c.condition === 'error' ? null : categoryScore(own),
      status: categoryStatus(c.condition, own),
    };
  });
  let weight = 0;
  let total = 0;
  categories.forEach((c, i) => {
    if ((inputs[i] as CategoryInput).condition !== 'checked') return;
    weight += WEIGHTS[c.id];
    total += WEIGHTS[c.id] * (c.score ?? 0);
  });
  let overall = weight === 0 ? 0 : Math.round(total / weight);
  const known = findings.filter((f) => !UNKNOWN_CODES.has(f.code));
  if (known.some((f) => f.severity === 'warning')) overall = Math.min(overall, CAPS.warning);
  if (known.some((f) => f.severity === 'critical')) overall = Math.min(overall, CAPS.critical);
  if (cannotReceive || known.some((f) => CANNOT_RECEIVE.has(f.code))) overall = Math.min(overall, CAPS.cannotReceive);
  const leftOut = inputs.filter((c) => c.condition === 'error').map((c) => c.id);
  return { score: overall, grade: gradeOf(overall), categories, leftOut };
}

/** The outcome of a report that has a verdict: `partial` when some category could not be checked. */
export function outcomeOf(categories: CategoryResult[], findings: Finding[]): Exclude<Outcome, 'inconclusive'> {
  const notChecked = findings.some((f) => NOT_CHECKED_CODES.has(f.code));
  return notChecked || categories.some((c) => c.status === 'error') ? 'partial' : 'complete';
}

/**
 * A stored report scored again with this version's table, from its findings and category
 * statuses alone: how reports made under an older version are compared with new ones. A
 * category is taken as not checked when it was `error` or has a finding of NOT_CHECKED_CODES.
 * Version 1 knew "cannot receive mail" also from the MX targets, which a report keeps only in its
 * grade: a version-1 F stays F (its score is capped like a domain that cannot receive mail).
 */
export function rescore(report: Pick<Report, 'categories' | 'findings' | 'score' | 'grade' | 'scoringVersion'>): {
  score: number;
  grade: Grade;
} {
  const failedIn = new Set(report.findings.filter((f) => NOT_CHECKED_CODES.has(f.code)).map((f) => f.category));
  const inputs: CategoryInput[] = report.categories.map((c) => ({
    id: c.id,
    condition: c.status === 'skipped' ? 'skipped' : c.status === 'error' || failedIn.has(c.id) ? 'error' : 'checked',
  }));
  const v1CannotReceive = report.scoringVersion === 1 && report.grade === 'F';
  const { score: s, grade } = score(inputs, report.findings, v1CannotReceive);
  return { score: s, grade };
}
