/**
 * The report and its parts, as ../shared/CONTRACT.md section 2 defines them (schema
 * `mailaudit.report/1`).
 */
export type Severity = 'critical' | 'warning' | 'notice' | 'info';

export const CATEGORY_IDS = [
  'domain',
  'mx',
  'spf',
  'dkim',
  'dmarc',
  'mta-sts',
  'tls-rpt',
  'bimi',
  'dnssec',
  'transport',
  'blocklist',
] as const;
export type CategoryId = (typeof CATEGORY_IDS)[number];

/** `error`: could not be checked (a lookup failed); `skipped`: not applicable or turned off. */
export type CategoryStatus = 'pass' | 'warn' | 'fail' | 'error' | 'skipped';

export interface FixRecord {
  type: string;
  name: string;
  value: string;
}

export interface Finding {
  code: string;
  severity: Severity;
  category: CategoryId;
  /** The record name, host or host:port concerned. */
  subject: string;
  message: string;
  params: Record<string, unknown>;
  fix?: FixRecord;
}

export interface CategoryResult {
  id: CategoryId;
  score: number;
  status: CategoryStatus;
}

export type Grade = 'A+' | 'A' | 'B' | 'C' | 'D' | 'F';

/** Grades from best to worst. */
export const GRADES: readonly Grade[] = ['A+', 'A', 'B', 'C', 'D', 'F'];

/** Severities by rank, most severe first (0). */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, notice: 2, info: 3 };

export interface Report {
  schema: 'mailaudit.report/1';
  domain: string;
  startedAt: string;
  durationMs: number;
  score: number;
  grade: Grade;
  /** Version of the scoring table the score was computed with (docs/scoring.md). */
  scoringVersion: number;
  categories: CategoryResult[];
  findings: Finding[];
  evidence: Record<string, unknown>;
}
