/**
 * The one scoring table (docs/scoring.md explains it). Deterministic: the same categories and
 * findings always give the same score and grade. Monotonic: removing a finding never lowers a
 * category's score, the overall score or the grade.
 */
import {
  type CategoryId,
  type CategoryResult,
  type CategoryStatus,
  type Finding,
  GRADES,
  type Grade,
  type Severity,
} from './types.js';

/** Bumped whenever a number below changes; stored with every report. */
export const SCORING_VERSION = 1;

/** Weight of each category in the overall score. `domain` carries no weight: its failure is the F rule. */
export const WEIGHTS: Record<CategoryId, number> = {
  domain: 0,
  mx: 15,
  spf: 15,
  dmarc: 15,
  dkim: 10,
  'mta-sts': 5,
  'tls-rpt': 3,
  bimi: 2,
  dnssec: 5,
  transport: 20,
  blocklist: 10,
};

/** Points a category loses per finding, by severity; a category never goes below 0. */
export const DEDUCTIONS: Record<Severity, number> = {
  critical: 60,
  warning: 25,
  notice: 10,
  info: 0,
};

/** Lowest score for each grade; A+ also needs no warning or critical finding at all. */
export const GRADE_FLOORS: [Grade, number][] = [
  ['A+', 95],
  ['A', 90],
  ['B', 80],
  ['C', 70],
  ['D', 60],
  ['F', 0],
];

/** Codes that mean the domain cannot receive mail: the grade is F whatever the score. */
export const CANNOT_RECEIVE = new Set(['domain.not_found', 'mx.missing']);

export interface CategoryInput {
  id: CategoryId;
  /** `error`: a lookup the category needed failed; `skipped`: not applicable or turned off. */
  condition: 'checked' | 'error' | 'skipped';
}

export function categoryStatus(condition: CategoryInput['condition'], findings: Finding[]): CategoryStatus {
  if (condition === 'skipped') return 'skipped';
  if (findings.some((f) => f.severity === 'critical')) return 'fail';
  if (condition === 'error') return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warn';
  return 'pass';
}

export function categoryScore(findings: Finding[]): number {
  const lost = findings.reduce((sum, f) => sum + DEDUCTIONS[f.severity], 0);
  return Math.max(0, 100 - lost);
}

export interface Scored {
  score: number;
  grade: Grade;
  categories: CategoryResult[];
}

/**
 * Overall score: the weighted mean of the scores of the categories not skipped (a category in
 * error keeps the deductions of its dns.lookup_failed findings), rounded; 0 when no category could
 * be checked at all. Grade: from the score, capped at D by any critical
 * finding, F when the domain cannot receive mail (CANNOT_RECEIVE, or every MX target unusable).
 */
export function score(inputs: CategoryInput[], findings: Finding[], cannotReceive = false): Scored {
  const categories: CategoryResult[] = inputs.map((c) => {
    const own = findings.filter((f) => f.category === c.id);
    return {
      id: c.id,
      score: c.condition === 'skipped' ? 100 : categoryScore(own),
      status: categoryStatus(c.condition, own),
    };
  });
  let weight = 0;
  let total = 0;
  for (const c of categories) {
    if (c.status === 'skipped') continue;
    weight += WEIGHTS[c.id];
    total += WEIGHTS[c.id] * c.score;
  }
  // Nothing could be looked at: no score to give.
  const nothingChecked = inputs.every((c) => c.condition !== 'checked');
  const overall = weight === 0 || nothingChecked ? 0 : Math.round(total / weight);
  let grade = (GRADE_FLOORS.find(([, floor]) => overall >= floor) as [Grade, number])[0];
  if (grade === 'A+' && findings.some((f) => f.severity === 'critical' || f.severity === 'warning')) grade = 'A';
  if (findings.some((f) => f.severity === 'critical') && GRADES.indexOf(grade) < GRADES.indexOf('D')) grade = 'D';
  if (cannotReceive || nothingChecked || findings.some((f) => CANNOT_RECEIVE.has(f.code))) grade = 'F';
  return { score: overall, grade, categories };
}
