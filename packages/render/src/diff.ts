/**
 * What changed between two reports of a domain: findings added and resolved (a finding is its
 * code and subject), severity changes, score and grade change, and new blocklist listings. Pure.
 */
import { type Finding, GRADES, type Grade, SEVERITY_RANK } from '@mailaudit/engine';

export interface ReportLike {
  score: number;
  grade: Grade | string;
  findings: Finding[];
}

export interface ReportDiff {
  scoreFrom: number;
  scoreTo: number;
  scoreChange: number;
  gradeFrom: string;
  gradeTo: string;
  /** Findings in `to` that `from` did not have, most severe first. */
  added: Finding[];
  /** Findings of `from` gone from `to`. */
  resolved: Finding[];
  /** Same code and subject, another severity. */
  changed: { from: Finding; to: Finding }[];
  /** Added blocklist listings (also in `added`), for alerts. */
  newListings: Finding[];
  /** Whether it got worse: a new critical or warning finding, or a lower grade. */
  regressed: boolean;
  /** Whether anything changed: a finding added, resolved or of another severity, or another grade. */
  different: boolean;
}

const key = (f: Finding) => `${f.code}\u0000${f.subject}`;

export function diffReports(from: ReportLike, to: ReportLike): ReportDiff {
  const before = new Map(from.findings.map((f) => [key(f), f]));
  const after = new Map(to.findings.map((f) => [key(f), f]));
  const added = to.findings
    .filter((f) => !before.has(key(f)))
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  const resolved = from.findings
    .filter((f) => !after.has(key(f)))
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  const changed = to.findings.flatMap((f) => {
    const old = before.get(key(f));
    return old && old.severity !== f.severity ? [{ from: old, to: f }] : [];
  });
  const newListings = added.filter((f) => f.code === 'blocklist.ip.listed' || f.code === 'blocklist.domain.listed');
  const regressed =
    added.some((f) => f.severity === 'critical' || f.severity === 'warning') ||
    GRADES.indexOf(to.grade as Grade) > GRADES.indexOf(from.grade as Grade);
  return {
    scoreFrom: from.score,
    scoreTo: to.score,
    scoreChange: to.score - from.score,
    gradeFrom: String(from.grade),
    gradeTo: String(to.grade),
    added,
    resolved,
    changed,
    newListings,
    regressed,
    different: added.length > 0 || resolved.length > 0 || changed.length > 0 || from.grade !== to.grade,
  };
}
