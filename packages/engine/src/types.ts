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
  /**
   * Files that must be served before the record is published (added): the record alone would
   * make things worse (the `_mta-sts` TXT record without its policy: `mta_sts.policy.unreachable`).
   */
  files?: FixFile[];
}

/** A file a fix needs served (the MTA-STS policy, RFC 8461 3.3). */
export interface FixFile {
  /** Where: an https:// URL, answered without a redirect by a server whose certificate is valid for its host name. */
  url: string;
  /** The media type to serve it with. */
  contentType: string;
  /** The file, exactly. */
  content: string;
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
  /** 0..100; null when the category could not be checked (a lookup failed) and is not in the score. */
  score: number | null;
  status: CategoryStatus;
}

export type Grade = 'A+' | 'A' | 'B' | 'C' | 'D' | 'F';

/** Grades from best to worst. */
export const GRADES: readonly Grade[] = ['A+', 'A', 'B', 'C', 'D', 'F'];

/** Severities by rank, most severe first (0). */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, notice: 2, info: 3 };

/**
 * `complete`: every lookup answered (NXDOMAIN and NODATA are answers); `partial`: some of the
 * domain's lookups failed, their categories are `error` and left out of the score;
 * `inconclusive`: the auditing side failed (its resolvers do not answer the control query), no
 * score, no grade, and the only finding is `audit.inconclusive` (CONTRACT.md section 2).
 */
export type Outcome = 'complete' | 'partial' | 'inconclusive';

export const OUTCOMES: readonly Outcome[] = ['complete', 'partial', 'inconclusive'];

export interface Report {
  schema: 'mailaudit.report/1';
  domain: string;
  startedAt: string;
  durationMs: number;
  /** 0..100; null when the audit was inconclusive. */
  score: number | null;
  /** A function of the score alone (docs/scoring.md); null when the audit was inconclusive. */
  grade: Grade | null;
  /** Whether the audit could look at everything (absent in reports made before it existed: `complete`). */
  outcome: Outcome;
  /** Version of the scoring table the score was computed with (docs/scoring.md). */
  scoringVersion: number;
  categories: CategoryResult[];
  findings: Finding[];
  evidence: Record<string, unknown>;
}
