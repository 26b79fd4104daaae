/**
 * What changed between two reports of a domain, comparing only what was looked at in both:
 * findings added and resolved (a finding is its code and subject) and severity changes in the
 * categories checked in both reports, the score and grade those categories give (with this
 * version's table, whatever version each report was scored with), and new blocklist listings.
 * An inconclusive report is never compared. Pure.
 */
import {
  type CategoryId,
  type CategoryResult,
  type Finding,
  type Grade,
  gradeOf,
  NOT_CHECKED_CODES,
  type Outcome,
  SCORING_VERSION,
  SEVERITY_RANK,
  scoreFindings,
} from '@mailaudit/engine';

export interface ReportLike {
  score: number | null;
  grade: Grade | string | null;
  /** Absent in reports made before outcomes existed: they count as complete or partial by their categories. */
  outcome?: Outcome;
  scoringVersion?: number;
  /** Absent only in hand-made test reports: every category then counts as checked. */
  categories?: CategoryResult[];
  findings: Finding[];
  evidence?: Record<string, unknown>;
}

export interface ReportDiff {
  /** The scores of the categories compared, with this version's table (docs/scoring.md). */
  scoreFrom: number;
  scoreTo: number;
  scoreChange: number;
  /** The grades of those scores. */
  gradeFrom: string;
  gradeTo: string;
  /** Findings in `to` that `from` did not have, most severe first (categories compared only). */
  added: Finding[];
  /** Findings of `from` gone from `to`, in categories `to` checked (categories compared only). */
  resolved: Finding[];
  /** Same code and subject, another severity. */
  changed: { from: Finding; to: Finding }[];
  /** Added blocklist listings (also in `added`), for alerts. */
  newListings: Finding[];
  /** Worse: the compared score went down (and so the grade, if it moved). */
  regressed: boolean;
  /** Better: the compared score went up. */
  improved: boolean;
  /** Whether anything changed: a finding added, resolved or of another severity, or another grade. */
  different: boolean;
  /** Categories checked in both reports: the only ones compared. */
  compared: CategoryId[];
  /** Categories checked in one report but not the other (a lookup failed): not compared. */
  notCompared: CategoryId[];
  /** Present when the two reports were scored with different versions of the table. */
  scoringVersions?: { from: number; to: number };
}

/** Thrown when asked to compare an inconclusive report: it says nothing about the domain. */
export class InconclusiveError extends Error {}

const key = (f: Finding) => `${f.code}\u0000${f.subject}`;
const bySeverity = (a: Finding, b: Finding) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];

/** Whether a report has a verdict (a score and a grade); only those are compared. */
export function isConclusive(r: Pick<ReportLike, 'outcome' | 'score'>): boolean {
  return r.outcome !== 'inconclusive' && r.score !== null;
}

/** The categories a report looked at: not skipped, not in error, no finding saying they could not be checked. */
export function checkedCategories(r: ReportLike): Set<CategoryId> | undefined {
  if (!r.categories) return undefined;
  const failedIn = new Set(r.findings.filter((f) => NOT_CHECKED_CODES.has(f.code)).map((f) => f.category));
  return new Set(
    r.categories.filter((c) => c.status !== 'skipped' && c.status !== 'error' && !failedIn.has(c.id)).map((c) => c.id),
  );
}

/** Whether the report was capped as "cannot receive mail" for a reason its findings do not carry. */
function cannotReceive(r: ReportLike): boolean {
  const scoring = r.evidence?.scoring as { cannotReceive?: boolean } | undefined;
  if (scoring?.cannotReceive !== undefined) return scoring.cannotReceive;
  // Version 1 capped the grade only: an F of version 1 stays an F.
  return (r.scoringVersion ?? 1) === 1 && r.grade === 'F';
}

/** The score of `r` over the categories in `only`, with this version's table. */
function comparableScore(r: ReportLike, only: Set<CategoryId> | undefined): number {
  if (!r.categories || r.score === null) return r.score ?? 0;
  const inputs = r.categories.map((c) => ({
    id: c.id,
    condition: (c.status === 'skipped' ? 'skipped' : only && !only.has(c.id) ? 'error' : 'checked') as
      | 'checked'
      | 'error'
      | 'skipped',
  }));
  const findings = only ? r.findings.filter((f) => only.has(f.category)) : r.findings;
  return scoreFindings(inputs, findings, cannotReceive(r)).score;
}

export function diffReports(from: ReportLike, to: ReportLike): ReportDiff {
  if (!isConclusive(from) || !isConclusive(to)) throw new InconclusiveError('an inconclusive report is never compared');
  const checkedFrom = checkedCategories(from);
  const checkedTo = checkedCategories(to);
  const both = checkedFrom && checkedTo ? new Set([...checkedFrom].filter((c) => checkedTo.has(c))) : undefined;
  const inBoth = (f: Finding) => !both || both.has(f.category);
  const before = new Map(from.findings.map((f) => [key(f), f]));
  const after = new Map(to.findings.map((f) => [key(f), f]));
  const added = to.findings.filter((f) => inBoth(f) && !before.has(key(f))).sort(bySeverity);
  const resolved = from.findings.filter((f) => inBoth(f) && !after.has(key(f))).sort(bySeverity);
  const changed = to.findings.flatMap((f) => {
    const old = before.get(key(f));
    return old && inBoth(f) && old.severity !== f.severity ? [{ from: old, to: f }] : [];
  });
  const newListings = added.filter((f) => f.code === 'blocklist.ip.listed' || f.code === 'blocklist.domain.listed');
  const versionFrom = from.scoringVersion ?? 1;
  const versionTo = to.scoringVersion ?? SCORING_VERSION;
  const notCompared =
    checkedFrom && checkedTo
      ? [...new Set([...checkedFrom, ...checkedTo])].filter((c) => !both?.has(c))
      : ([] as CategoryId[]);
  // The reports' own scores when they cover the same ground with the same table; else both
  // scored again over the categories compared.
  const same = notCompared.length === 0 && versionFrom === SCORING_VERSION && versionTo === SCORING_VERSION;
  const scoreFrom = same ? (from.score as number) : comparableScore(from, both);
  const scoreTo = same ? (to.score as number) : comparableScore(to, both);
  const gradeFrom = gradeOf(scoreFrom);
  const gradeTo = gradeOf(scoreTo);
  const diff: ReportDiff = {
    scoreFrom,
    scoreTo,
    scoreChange: scoreTo - scoreFrom,
    gradeFrom,
    gradeTo,
    added,
    resolved,
    changed,
    newListings,
    regressed: scoreTo < scoreFrom,
    improved: scoreTo > scoreFrom,
    different: added.length > 0 || resolved.length > 0 || changed.length > 0 || gradeFrom !== gradeTo,
    compared: both ? [...both] : [],
    notCompared,
  };
  if (versionFrom !== versionTo) diff.scoringVersions = { from: versionFrom, to: versionTo };
  return diff;
}
