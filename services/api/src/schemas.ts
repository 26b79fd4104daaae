/**
 * TypeBox schemas of the API: requests are validated against them and the OpenAPI document is
 * generated from them.
 */
import { LOCALES } from '@mailaudit/catalog';
import { type Static, Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable, for programs' }),
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
  { $id: 'Error', description: 'Every error has this shape' },
);

/** The errors every authenticated route may answer, with the one error shape. */
export const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

const DomainName = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'A domain; Unicode names are converted to punycode',
});
const Selector = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', maxLength: 63 });
const Selectors = Type.Array(Selector, { maxItems: 50, description: 'DKIM selectors to look up' });

export const AuditRequest = Type.Union(
  [
    Type.Object({ domain: DomainName, dkimSelectors: Type.Optional(Selectors) }, { additionalProperties: false }),
    Type.Object(
      {
        domains: Type.Array(DomainName, { minItems: 1, maxItems: 1000 }),
        dkimSelectors: Type.Optional(Selectors),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'One domain, or a batch of up to 1000' },
);

const QueuedAuditSchema = Type.Object({
  id: Type.String(),
  status: Type.Literal('queued'),
  domain: Type.String(),
  createdAt: Type.String(),
});
export type QueuedAudit = Static<typeof QueuedAuditSchema>;

/** The answer to POST /v1/audits: the audit queued, or the batch's. */
export const AuditsAccepted = Type.Union([QueuedAuditSchema, Type.Object({ audits: Type.Array(QueuedAuditSchema) })]);
export type AuditsAccepted = Static<typeof AuditsAccepted>;

export const AuditStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('done'),
  Type.Literal('failed'),
]);

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

const auditFields = {
  id: Type.String({ format: 'uuid' }),
  domain: Type.String(),
  status: AuditStatus,
  source: Type.String(),
  createdAt: Timestamp,
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  error: Type.Union([Type.String(), Type.Null()]),
  reportId: Type.Union([Type.String(), Type.Null()]),
};

export const AuditSummary = Type.Object(auditFields);

export const Finding = Type.Object({
  code: Type.String(),
  severity: Type.String(),
  category: Type.String(),
  subject: Type.String(),
  message: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  fix: Type.Optional(Type.Object({ type: Type.String(), name: Type.String(), value: Type.String() })),
});

export const Report = Type.Object(
  {
    schema: Type.Literal('mailaudit.report/1'),
    domain: Type.String(),
    startedAt: Type.String(),
    durationMs: Type.Integer(),
    score: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()], {
      description: 'null when the outcome is inconclusive',
    }),
    grade: Type.Union([Type.String(), Type.Null()], {
      description: 'a function of the score (docs/scoring.md); null when inconclusive',
    }),
    outcome: Type.Optional(
      Type.Union([Type.Literal('complete'), Type.Literal('partial'), Type.Literal('inconclusive')], {
        description: 'absent in reports stored before it existed',
      }),
    ),
    categories: Type.Array(
      Type.Object({ id: Type.String(), score: Type.Union([Type.Integer(), Type.Null()]), status: Type.String() }),
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
    additionalProperties: true,
    description: 'The report (schema mailaudit.report/1), described in docs/report.md of the repository',
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
  { additionalProperties: true },
);

export const AuditWithReport = Type.Object({ ...auditFields, report: Type.Union([Report, Type.Null()]) });

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
  { additionalProperties: false },
);

export const DomainView = Type.Object({
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
});

export const ReportSummary = Type.Object({
  id: Type.String(),
  auditId: Type.String(),
  domain: Type.String(),
  score: Type.Union([Type.Integer(), Type.Null()]),
  grade: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.Literal('complete'), Type.Literal('partial'), Type.Literal('inconclusive')]),
  scoringVersion: Type.Integer(),
  createdAt: Timestamp,
});

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
  { additionalProperties: false },
);

export const TestAddressView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  domain: Type.String(),
  address: Type.String({ description: 'Send any message from the mailbox to test to this address' }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  maxMessages: Type.Integer({ description: 'Messages the address takes before it refuses more' }),
});

export const MessageTestSummaryView = Type.Object({
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
});

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
    additionalProperties: true,
    description:
      'The analysis of the message (schema mailaudit.message/1): results and the headers they need, never the body',
  },
);

export const MessageTestView = Type.Object({ ...MessageTestSummaryView.properties, result: MessageResult });

/** What a report links to: the domain's message tests as of the report. */
export const MessageTestsLink = Type.Object({
  count: Type.Integer({ description: 'Message tests received by the time of the report' }),
  latest: Type.Union([MessageTestSummaryView, Type.Null()]),
  href: Type.String({ description: "The domain's message tests" }),
});

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const GRADE_VALUES = ['A+', 'A', 'B', 'C', 'D', 'F'] as const;
export const SEVERITY_VALUES = ['critical', 'warning', 'notice', 'info'] as const;
export const OUTCOME_VALUES = ['complete', 'partial', 'inconclusive'] as const;
export const OVERVIEW_SORTS = ['domain', 'score', 'severity', 'auditedAt', 'changedAt'] as const;

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
    prefix: Type.Optional(Type.String({ maxLength: 253, description: 'Domains whose name starts with this' })),
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

export const SeverityCounts = Type.Object({
  critical: Type.Integer(),
  warning: Type.Integer(),
  notice: Type.Integer(),
  info: Type.Integer(),
});

/** A registered domain with the summary of its latest report (nulls when it was never audited). */
export const DomainOverview = Type.Object({
  ...DomainView.properties,
  score: Nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'Null: never audited, or inconclusive' })),
  grade: Nullable(Type.String()),
  outcome: Nullable(Type.String({ description: 'complete, partial or inconclusive; null: never audited' })),
  worstSeverity: Nullable(Type.String({ description: "The latest report's most severe finding; null: none" })),
  counts: Nullable(SeverityCounts),
  lastAuditId: Nullable(Type.String({ format: 'uuid' })),
  lastReportId: Nullable(Type.String({ format: 'uuid' })),
  lastAuditAt: Nullable(Timestamp),
  trend: Nullable(
    Type.String({
      description: 'up, down or same: the latest conclusive score against the one before; null without two',
    }),
  ),
  previousScore: Nullable(Type.Integer()),
  changedAt: Nullable(Type.String({ format: 'date-time', description: 'When the reports last changed' })),
});

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

export const LatestFindingView = Type.Object({
  domain: Type.String(),
  reportId: Type.String({ format: 'uuid' }),
  auditedAt: Timestamp,
  code: Type.String(),
  severity: Type.String(),
  category: Type.String(),
  subject: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
});

export const BulkDomainsBody = Type.Object(
  {
    domains: Type.Array(
      Type.Object({ domain: DomainName, ...DomainBody.properties }, { additionalProperties: false }),
      {
        minItems: 1,
        maxItems: 1000,
      },
    ),
  },
  { additionalProperties: false },
);

export const BulkDomainResult = Type.Object({
  domain: Type.String({ description: 'As given' }),
  status: Type.Union([
    Type.Literal('created'),
    Type.Literal('updated'),
    Type.Literal('unchanged'),
    Type.Literal('error'),
  ]),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  item: Type.Optional(DomainView),
});

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
