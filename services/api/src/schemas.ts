/**
 * TypeBox schemas of the API: requests are validated against them and the OpenAPI document is
 * generated from them.
 */
import { LOCALES } from '@mailaudit/catalog';
import { CATEGORY_IDS, CODES } from '@mailaudit/engine';
import { type Static, Type } from 'typebox';

/** A string of a fixed set, typed as a string (the values come from the engine's tables). */
const oneOf = (values: readonly string[], options: { title?: string; description?: string } = {}) =>
  Type.Unsafe<string>({ type: 'string', enum: [...values], ...options });

export const GRADE_VALUES = ['A+', 'A', 'B', 'C', 'D', 'F'] as const;
export const SEVERITY_VALUES = ['critical', 'warning', 'notice', 'info'] as const;
export const OUTCOME_VALUES = ['complete', 'partial', 'inconclusive'] as const;
export const OVERVIEW_SORTS = ['domain', 'score', 'severity', 'auditedAt', 'changedAt'] as const;

export const FindingCode = oneOf(Object.keys(CODES), {
  title: 'FindingCode',
  description: 'A finding code: stable, for programs (docs/codes.md; GET /v1/codes has their texts)',
});
export const Severity = oneOf(SEVERITY_VALUES, { title: 'Severity', description: 'How much a finding matters' });
export const Grade = oneOf(GRADE_VALUES, { title: 'Grade', description: 'The grade, a function of the score alone' });
export const CategoryId = oneOf(CATEGORY_IDS, { title: 'CategoryId', description: 'A category of checks' });
export const CategoryStatus = oneOf(['pass', 'warn', 'fail', 'error', 'skipped'], {
  title: 'CategoryStatus',
  description: '`error`: could not be checked (a lookup failed); `skipped`: not applicable or turned off',
});
export const Outcome = oneOf(OUTCOME_VALUES, {
  title: 'Outcome',
  description:
    '`complete`: every lookup answered; `partial`: some failed (those categories are `error`, out of the score); `inconclusive`: the auditing side failed, no score or grade',
});

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({
        description:
          'Stable, for programs: bad_request, validation_failed, invalid_domain, unauthorized, forbidden, not_found, conflict, payload_too_large, uri_too_long, unsupported_media_type, headers_too_large, request_timeout, rate_limited, quota_exceeded, not_configured, unavailable, internal',
      }),
      message: Type.String({ description: 'For people; may change' }),
      field: Type.Optional(
        Type.String({ description: 'The field at fault, as a JSON pointer into the request: /body/domains/0/domain' }),
      ),
      allowed: Type.Optional(
        Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
          description: 'The values the field may take',
        }),
      ),
    }),
  },
  {
    title: 'Error',
    description: 'Every error has this shape',
  },
);

const DomainName = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'A domain; Unicode names are converted to punycode',
  examples: ['example.com'],
});
const Selector = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$',
  maxLength: 63,
  description: 'a DKIM selector: letters, digits, dots, hyphens and underscores, from a letter or digit, 63 at most',
});
const Selectors = Type.Array(Selector, {
  maxItems: 50,
  description: 'DKIM selectors to look up',
  examples: [['s1', 'google']],
});

export const AuditRequest = Type.Union(
  [
    Type.Object(
      { domain: DomainName, dkimSelectors: Type.Optional(Selectors) },
      { additionalProperties: false, title: 'AuditOneRequest', examples: [{ domain: 'example.com' }] },
    ),
    Type.Object(
      {
        domains: Type.Array(DomainName, { minItems: 1, maxItems: 1000 }),
        dkimSelectors: Type.Optional(Selectors),
      },
      {
        additionalProperties: false,
        title: 'AuditBatchRequest',
        examples: [{ domains: ['example.com', 'example.org'], dkimSelectors: ['s1'] }],
      },
    ),
  ],
  { title: 'AuditRequest', description: 'One domain, or a batch of up to 1000' },
);

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });

const QueuedAuditSchema = Type.Object(
  {
    id: Uuid,
    status: Type.Literal('queued'),
    domain: Type.String({ description: 'ASCII form, lower case' }),
    createdAt: Timestamp,
  },
  { title: 'QueuedAudit', description: 'An audit queued; poll GET /v1/audits/{id}' },
);
export type QueuedAudit = Static<typeof QueuedAuditSchema>;

/** The answer to POST /v1/audits: the audit queued, or the batch's. */
export const AuditsAccepted = Type.Union(
  [
    QueuedAuditSchema,
    Type.Object({ audits: Type.Array(QueuedAuditSchema) }, { title: 'QueuedAudits', description: 'A batch queued' }),
  ],
  { title: 'AuditsAccepted' },
);
export type AuditsAccepted = Static<typeof AuditsAccepted>;

export const AuditStatus = Type.Union(
  [Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')],
  { title: 'AuditStatus' },
);

const auditFields = {
  id: Uuid,
  domain: Type.String(),
  status: AuditStatus,
  source: oneOf(['api', 'nightly'], { description: 'Who asked for it: the API or the nightly cycle' }),
  createdAt: Timestamp,
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why a failed audit failed' }),
  reportId: Type.Union([Uuid, Type.Null()]),
};

export const AuditSummary = Type.Object(auditFields, { title: 'AuditSummary' });

export const Finding = Type.Object(
  {
    code: FindingCode,
    severity: Severity,
    category: CategoryId,
    subject: Type.String({ description: 'The record name, host or host:port concerned' }),
    message: Type.String({ description: 'For people; may change between versions' }),
    params: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Machine-readable detail (counts, names, addresses)',
    }),
    fix: Type.Optional(
      Type.Object(
        {
          type: Type.String(),
          name: Type.String(),
          value: Type.String(),
          files: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  url: Type.String({
                    description:
                      'An https:// URL, to be answered without a redirect by a server whose certificate is valid for its host name',
                  }),
                  contentType: Type.String({ description: 'The media type to serve it with' }),
                  content: Type.String({ description: 'The file, exactly' }),
                },
                { title: 'FixFile' },
              ),
              {
                description:
                  'Files to serve before the record is published (the MTA-STS policy): the record alone would make things worse',
              },
            ),
          ),
        },
        { title: 'FixRecord', description: 'The DNS record that fixes it' },
      ),
    ),
  },
  {
    title: 'Finding',
    examples: [
      {
        code: 'dmarc.policy.none',
        severity: 'warning',
        category: 'dmarc',
        subject: '_dmarc.example.com',
        message: 'The DMARC policy is p=none: spoofed mail is still delivered',
        params: { policy: 'none' },
        fix: { type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com' },
      },
    ],
  },
);

export const Report = Type.Object(
  {
    schema: Type.Literal('mailaudit.report/1'),
    domain: Type.String(),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Integer(),
    score: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()], {
      description: 'null when the outcome is inconclusive',
    }),
    grade: Type.Union([Grade, Type.Null()], {
      description: 'a function of the score (docs/scoring.md); null when inconclusive',
    }),
    outcome: Type.Optional(Outcome),
    categories: Type.Array(
      Type.Object(
        { id: CategoryId, score: Type.Union([Type.Integer(), Type.Null()]), status: CategoryStatus },
        { title: 'CategoryResult' },
      ),
    ),
    findings: Type.Array(Finding),
    evidence: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'What was seen: records, hosts, ports, certificates, blocklist answers. Left out with view=summary',
      }),
    ),
  },
  {
    title: 'Report',
    additionalProperties: true,
    description:
      'The report (schema mailaudit.report/1), described in docs/report.md of the repository; `outcome` is absent in reports stored before it existed',
  },
);

/** What changed between two reports, as stored after each audit (packages/render's ReportDiff). */
export const StoredDiff = Type.Object(
  {
    scoreFrom: Type.Number(),
    scoreTo: Type.Number(),
    scoreChange: Type.Number(),
    gradeFrom: Type.String(),
    gradeTo: Type.String(),
    added: Type.Array(Finding),
    resolved: Type.Array(Finding),
    changed: Type.Array(Type.Object({ from: Finding, to: Finding })),
    newListings: Type.Array(Finding),
    regressed: Type.Boolean(),
    different: Type.Boolean(),
  },
  { additionalProperties: true, title: 'StoredDiff', description: 'What changed since the previous report' },
);

export const AuditWithReport = Type.Object(
  { ...auditFields, report: Type.Union([Report, Type.Null()], { description: 'Once the audit is done' }) },
  { title: 'Audit' },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const DomainParams = Type.Object({ domain: DomainName });

const Limit = Type.String({ pattern: '^[0-9]{1,4}$', description: 'Page size, 1 to 500 (default 50)' });
const Cursor = Type.String({ maxLength: 200, description: 'nextCursor of the previous page' });

export const AuditListQuery = Type.Object(
  {
    domain: Type.Optional(DomainName),
    status: Type.Optional(AuditStatus),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

/** The cursor of the next page of a list. */
export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: 'Pass it as `cursor` for the next page; null on the last',
});

export const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

/**
 * One addr-spec and nothing else (RFC 5321 4.1.2 Mailbox with a Dot-string local part and a
 * host-name domain, ASCII): no display name, no comment, no quoted local part, no list, no
 * control or Unicode space characters, so that what is stored is exactly what mail is sent to.
 * (A looser pattern let `"a,b@c.test"` through as one recipient, and nodemailer sent it to two.)
 */
export const MAILBOX_PATTERN =
  "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64})*@(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";
const Email = Type.String({
  pattern: MAILBOX_PATTERN,
  maxLength: 254,
  description: 'one address (local@domain, ASCII, no display name)',
});

/** A language of the message catalogue (`@mailaudit/catalog`). */
export const LocaleSchema = Type.Union([Type.Literal('en'), Type.Literal('tr')], {
  title: 'Locale',
  description: `A language: ${LOCALES.join(' or ')}`,
});

export const DomainBody = Type.Object(
  {
    nightly: Type.Optional(Type.Boolean({ description: 'Audit every night (default true)' })),
    recipients: Type.Optional(Type.Array(Email, { maxItems: 50, description: 'Who gets the nightly summary' })),
    recipientLocales: Type.Optional(
      Type.Record(Type.String({ maxLength: 320 }), LocaleSchema, {
        maxProperties: 50,
        description:
          "Each recipient's language (address: en or tr), over the tenant's default; every address must be one of recipients",
      }),
    ),
    dkimSelectors: Type.Optional(Selectors),
    extraHosts: Type.Optional(Type.Array(DomainName, { maxItems: 20, description: 'More mail hosts to probe' })),
  },
  {
    additionalProperties: false,
    title: 'DomainSettings',
    description: 'A field left out keeps its current value (or its default for a new domain)',
    examples: [{ nightly: true, recipients: ['ops@example.com'], dkimSelectors: ['s1'] }],
  },
);

export const DomainView = Type.Object(
  {
    domain: Type.String(),
    nightly: Type.Boolean(),
    recipients: Type.Array(Type.String()),
    recipientLocales: Type.Record(Type.String(), Type.String(), { description: "Recipients' own languages" }),
    dkimSelectors: Type.Array(Type.String()),
    dkimSelectorsFound: Type.Array(Type.String(), {
      description: "Selectors seen signing the domain's test messages; audits check them as well",
    }),
    extraHosts: Type.Array(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Domain', description: 'A registered domain' },
);

export const ReportSummary = Type.Object(
  {
    id: Uuid,
    auditId: Uuid,
    domain: Type.String(),
    score: Type.Union([Type.Integer(), Type.Null()]),
    grade: Type.Union([Grade, Type.Null()]),
    outcome: Outcome,
    scoringVersion: Type.Integer({ description: 'The scoring table the score was computed with (docs/scoring.md)' }),
    createdAt: Timestamp,
  },
  { title: 'ReportSummary' },
);

export const DiffQuery = Type.Object(
  { from: Type.Optional(Type.String({ format: 'uuid' })), to: Type.Optional(Type.String({ format: 'uuid' })) },
  { additionalProperties: false },
);

/** RFC 8601 result keywords. */
const AuthResult = Type.String({ description: 'pass, fail, softfail, neutral, none, temperror, permerror or policy' });

export const TestAddressBody = Type.Object(
  {
    validHours: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 168, description: 'How long the address takes messages (default 24)' }),
    ),
  },
  { additionalProperties: false, title: 'TestAddressRequest', description: 'Optional: no body means the defaults' },
);

export const TestAddressView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    domain: Type.String(),
    address: Type.String({ description: 'Send any message from the mailbox to test to this address' }),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    maxMessages: Type.Integer({ description: 'Messages the address takes before it refuses more' }),
  },
  { title: 'TestAddress' },
);

export const MessageTestSummaryView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    domain: Type.String(),
    receivedAt: Timestamp,
    from: Type.Union([Type.String(), Type.Null()]),
    clientIp: Type.String(),
    helo: Type.String(),
    mailFrom: Type.String(),
    tls: Type.Union([Type.String(), Type.Null()], { description: 'TLS version the sender used; null: none' }),
    spf: AuthResult,
    dkim: Type.String({ description: 'pass if any signature passed, none when unsigned, else the first result' }),
    dmarc: AuthResult,
    arc: AuthResult,
    selectorsAdded: Type.Array(Type.String(), { description: "Selectors this message added to the domain's" }),
  },
  { title: 'MessageTestSummary' },
);

export const MessageResult = Type.Object(
  {
    schema: Type.Literal('mailaudit.message/1'),
    spf: Type.Object({ result: AuthResult }, { additionalProperties: true }),
    dkim: Type.Array(
      Type.Object(
        { domain: Type.String(), selector: Type.String(), result: AuthResult },
        { additionalProperties: true },
      ),
    ),
    dmarc: Type.Object({ result: AuthResult }, { additionalProperties: true }),
    arc: Type.Object({ result: AuthResult }, { additionalProperties: true }),
    findings: Report.properties.findings,
  },
  {
    title: 'MessageResult',
    additionalProperties: true,
    description:
      'The analysis of the message (schema mailaudit.message/1): results and the headers they need, never the body',
  },
);

export const MessageTestView = Type.Object(
  { ...MessageTestSummaryView.properties, result: MessageResult },
  { title: 'MessageTest' },
);

/** What a report links to: the domain's message tests as of the report. */
export const MessageTestsLink = Type.Object(
  {
    count: Type.Integer({ description: 'Message tests received by the time of the report' }),
    latest: Type.Union([MessageTestSummaryView, Type.Null()]),
    href: Type.String({ description: "The domain's message tests" }),
  },
  { title: 'MessageTestsLink' },
);

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()]);

const list = (description: string) => Type.String({ maxLength: 2000, description });

export const OverviewQuery = Type.Object(
  {
    grade: Type.Optional(list('Grades, comma-separated (`A+` is sent as `A%2B`): domains with any of them')),
    severity: Type.Optional(
      list('Severities, comma-separated: domains whose latest report has a finding of any of them'),
    ),
    worstSeverity: Type.Optional(list('Severities, comma-separated: domains whose worst finding has one of them')),
    code: Type.Optional(list('Finding codes, comma-separated: domains whose latest report has any of them')),
    category: Type.Optional(list('Categories, comma-separated: domains with a finding in any of them')),
    outcome: Type.Optional(list('Outcomes, comma-separated (complete, partial, inconclusive)')),
    changedSince: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Domains whose reports changed (score, grade or findings) at or after this time',
      }),
    ),
    audited: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description: 'true: audited domains only; false: never audited only',
      }),
    ),
    prefix: Type.Optional(
      Type.String({
        maxLength: 253,
        pattern: '^[A-Za-z0-9.-]*$',
        description:
          'Domains whose name starts with this (letters, digits, dots and hyphens: the ASCII form of a name)',
      }),
    ),
    sort: Type.Optional(
      Type.Union(
        OVERVIEW_SORTS.flatMap((s) => [Type.Literal(s), Type.Literal(`-${s}`)]),
        { description: 'Order of the list; a leading "-" reverses it. Ties are broken by name. Default: domain' },
      ),
    ),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Page size, 1 to 500 (default 50)' })),
    cursor: Type.Optional(Type.String({ maxLength: 600, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const SeverityCounts = Type.Object(
  {
    critical: Type.Integer(),
    warning: Type.Integer(),
    notice: Type.Integer(),
    info: Type.Integer(),
  },
  { title: 'SeverityCounts', description: "The latest report's findings by severity" },
);

/** A registered domain with the summary of its latest report (nulls when it was never audited). */
export const DomainOverview = Type.Object(
  {
    ...DomainView.properties,
    score: Nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'Null: never audited, or inconclusive' })),
    grade: Nullable(Grade),
    outcome: Nullable(Outcome),
    worstSeverity: Nullable(Severity),
    counts: Nullable(SeverityCounts),
    lastAuditId: Nullable(Type.String({ format: 'uuid' })),
    lastReportId: Nullable(Type.String({ format: 'uuid' })),
    lastAuditAt: Nullable(Timestamp),
    trend: Nullable(
      oneOf(['up', 'down', 'same'], {
        description: 'The latest conclusive score against the one before; null without two',
      }),
    ),
    previousScore: Nullable(Type.Integer()),
    changedAt: Nullable(Type.String({ format: 'date-time', description: 'When the reports last changed' })),
  },
  {
    title: 'DomainOverview',
    description:
      'A registered domain with the summary of its latest report: all nulls when never audited; `worstSeverity` null when it has no finding',
  },
);

export const LatestFindingsQuery = Type.Object(
  {
    code: Type.Optional(list('Finding codes, comma-separated')),
    severity: Type.Optional(list('Severities, comma-separated')),
    category: Type.Optional(list('Categories, comma-separated')),
    domain: Type.Optional(DomainName),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Page size, 1 to 500 (default 50)' })),
    cursor: Type.Optional(Type.String({ maxLength: 1200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const LatestFindingView = Type.Object(
  {
    domain: Type.String(),
    reportId: Type.String({ format: 'uuid' }),
    auditedAt: Timestamp,
    code: FindingCode,
    severity: Severity,
    category: CategoryId,
    subject: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'LatestFinding', description: "A finding of a domain's latest report" },
);

export const BulkDomainsBody = Type.Object(
  {
    domains: Type.Array(
      Type.Object(
        { domain: DomainName, ...DomainBody.properties },
        { additionalProperties: false, title: 'BulkDomainItem' },
      ),
      {
        minItems: 1,
        maxItems: 1000,
      },
    ),
  },
  {
    additionalProperties: false,
    title: 'BulkDomainsRequest',
    examples: [{ domains: [{ domain: 'example.com', recipients: ['ops@example.com'] }, { domain: 'example.org' }] }],
  },
);

export const BulkDomainResult = Type.Object(
  {
    domain: Type.String({ description: 'As given' }),
    status: Type.Union([
      Type.Literal('created'),
      Type.Literal('updated'),
      Type.Literal('unchanged'),
      Type.Literal('error'),
    ]),
    error: Type.Optional(
      Type.Object(
        { code: Type.String({ description: 'invalid_domain, bad_request or duplicate' }), message: Type.String() },
        { description: 'Why this item was not applied' },
      ),
    ),
    item: Type.Optional(DomainView),
  },
  { title: 'BulkDomainResult' },
);

export const ReportViewQuery = Type.Object(
  {
    view: Type.Optional(
      Type.Union([Type.Literal('full'), Type.Literal('summary')], {
        description: 'summary: the report without its evidence (a tenth of the size or less). Default: full',
      }),
    ),
  },
  { additionalProperties: false },
);
