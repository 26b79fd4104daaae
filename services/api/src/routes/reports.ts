/**
 * A domain's reports: GET /v1/domains/:domain/reports (history, newest first),
 * GET /v1/domains/:domain/reports/:id, GET /v1/domains/:domain/latest, GET /v1/domains/:domain/diff.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Finding } from '@mailaudit/engine';
import { diffReports, isConclusive } from '@mailaudit/render';
import {
  getReport,
  latestConclusiveReport,
  latestReports,
  listReports,
  messageTestsAsOf,
  type ReportRow,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { reportFor } from '../locale.js';
import { errorsOf, KEYED, ok, PATH } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import {
  CategoryId,
  DiffQuery,
  DomainParams,
  FindingCode,
  MessageTestsLink,
  NextCursor,
  PageQuery,
  Report,
  ReportSummary,
  ReportViewQuery,
  Severity,
} from '../schemas.js';
import { domainFrom } from './domain-param.js';
import { messageTestSummary } from './message-tests.js';

/** A report's summary with its full body (CONTRACT.md section 2) and its link to the domain's message tests. */
const ReportWithBody = Type.Object(
  { ...ReportSummary.properties, report: Report, messageTests: MessageTestsLink },
  {
    title: 'StoredReport',
    description:
      "A stored report: its summary, the report itself (in the reader's language) and the domain's message tests",
  },
);

function reportSummary(r: Omit<ReportRow, 'report'>) {
  return {
    id: r.id,
    auditId: r.auditId,
    domain: r.domain,
    score: r.score,
    grade: r.grade,
    outcome: r.outcome,
    scoringVersion: r.scoringVersion,
    createdAt: r.createdAt.toISOString(),
  };
}

const FindingView = Type.Object(
  {
    code: FindingCode,
    severity: Severity,
    category: CategoryId,
    subject: Type.String(),
    message: Type.String(),
  },
  { title: 'DiffFinding' },
);

const ReportDiff = Type.Object(
  {
    from: ReportSummary,
    to: ReportSummary,
    scoreChange: Type.Integer(),
    gradeFrom: Type.String(),
    gradeTo: Type.String(),
    regressed: Type.Boolean(),
    improved: Type.Boolean(),
    compared: Type.Array(Type.String(), { description: 'categories checked in both reports' }),
    notCompared: Type.Array(Type.String(), { description: 'categories checked in only one of them' }),
    scoringVersions: Type.Optional(
      Type.Object(
        { from: Type.Integer(), to: Type.Integer() },
        { description: 'present when the reports were scored with different versions' },
      ),
    ),
    added: Type.Array(FindingView),
    resolved: Type.Array(FindingView),
    changed: Type.Array(
      Type.Object(
        { code: FindingCode, subject: Type.String(), from: Severity, to: Severity },
        { description: 'A finding whose severity changed' },
      ),
    ),
  },
  { title: 'ReportDiff' },
);
const findingView = (f: Finding) => ({
  code: f.code,
  severity: f.severity,
  category: f.category,
  subject: f.subject,
  message: f.message,
});

/** The report as asked: whole, or without its evidence. */
function reportIn(report: ReportRow['report'], view: 'full' | 'summary' | undefined) {
  if (view !== 'summary') return report;
  const { evidence: _evidence, ...rest } = report;
  return rest;
}

/** The domain's message tests as of a report: how many, the newest, and where to list them. */
async function messageTestsLink(ctx: ApiContext, tenantId: string, r: Omit<ReportRow, 'report'>) {
  const { count, latest } = await messageTestsAsOf(ctx.sql, tenantId, r.domain, r.createdAt);
  return {
    count,
    latest: latest ? messageTestSummary(latest) : null,
    href: `${ctx.config.publicUrl}/v1/domains/${r.domain}/message-tests`,
  };
}

export function reportRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/domains/:domain/reports',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A domain's reports, newest first",
          tags: ['reports'],
          params: DomainParams,
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object({ reports: Type.Array(ReportSummary), nextCursor: NextCursor }, { title: 'ReportList' }),
              'A page of reports (none for a domain never audited)',
            ),
            ...errorsOf(400, ...PATH, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const rows = await listReports(
          ctx.sql,
          req.tenantId,
          domainFrom(req.params.domain),
          limit + 1,
          afterTime(byTime.decode(req.query.cursor)),
        );
        const { items, nextCursor } = page(rows, limit, byTime, timeKey);
        return { reports: items.map(reportSummary), nextCursor };
      },
    );

    app.get(
      '/domains/:domain/reports/:id',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'One report',
          tags: ['reports'],
          params: Type.Object({ domain: Type.String({ maxLength: 1024 }), id: Type.String({ format: 'uuid' }) }),
          querystring: ReportViewQuery,
          response: { 200: ok(ReportWithBody, 'The report'), ...errorsOf(400, 404, ...PATH, ...KEYED) },
        },
      },
      async (req, reply) => {
        const r = await getReport(ctx.sql, req.tenantId, domainFrom(req.params.domain), req.params.id);
        if (!r) throw errors.notFound('report');
        return {
          ...reportSummary(r),
          report: reportFor(req, reply, reportIn(r.report, req.query.view)),
          messageTests: await messageTestsLink(ctx, req.tenantId, r),
        };
      },
    );

    app.get(
      '/domains/:domain/latest',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A domain's latest report",
          tags: ['reports'],
          params: DomainParams,
          querystring: ReportViewQuery,
          response: {
            200: ok(ReportWithBody, 'The latest report'),
            ...errorsOf(400, 404, ...PATH, ...KEYED),
          },
        },
      },
      async (req, reply) => {
        const [r] = await latestReports(ctx.sql, req.tenantId, domainFrom(req.params.domain), 1);
        if (!r) throw errors.notFound('report');
        return {
          ...reportSummary(r),
          report: reportFor(req, reply, reportIn(r.report, req.query.view)),
          messageTests: await messageTestsLink(ctx, req.tenantId, r),
        };
      },
    );

    app.get(
      '/domains/:domain/diff',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'What changed between two reports',
          tags: ['reports'],
          description:
            'Findings added and resolved (a finding is its code and subject), severity changes, score and grade change, over the categories checked in both reports (scored with the current table when their scoring versions differ). Without `from`/`to`: the two latest conclusive reports. An inconclusive report is never compared (409).',
          params: DomainParams,
          querystring: DiffQuery,
          response: {
            200: ok(ReportDiff, 'What changed from `from` to `to`'),
            ...errorsOf(400, 404, 409, ...PATH, ...KEYED),
          },
        },
      },
      async (req) => {
        const domain = domainFrom(req.params.domain);
        const t = req.tenantId;
        let from: ReportRow | undefined;
        let to: ReportRow | undefined;
        if (req.query.from || req.query.to) {
          if (!req.query.from || !req.query.to)
            throw errors.invalidField(
              req.query.from ? '/query/to' : '/query/from',
              'give both from and to, or neither',
            );
          [from, to] = await Promise.all([
            getReport(ctx.sql, t, domain, req.query.from),
            getReport(ctx.sql, t, domain, req.query.to),
          ]);
        } else {
          to = await latestConclusiveReport(ctx.sql, t, domain);
          from = to && (await latestConclusiveReport(ctx.sql, t, domain, to.id));
        }
        if (!from || !to) throw errors.notFound(req.query.from ? 'report' : 'two conclusive reports of this domain');
        if (!isConclusive(from.report) || !isConclusive(to.report))
          throw errors.conflict('an inconclusive report is never compared');
        const d = diffReports(from.report, to.report);
        return {
          from: reportSummary(from),
          to: reportSummary(to),
          scoreChange: d.scoreChange,
          gradeFrom: d.gradeFrom,
          gradeTo: d.gradeTo,
          regressed: d.regressed,
          improved: d.improved,
          compared: d.compared,
          notCompared: d.notCompared,
          ...(d.scoringVersions ? { scoringVersions: d.scoringVersions } : {}),
          added: d.added.map(findingView),
          resolved: d.resolved.map(findingView),
          changed: d.changed.map((c) => ({
            code: c.to.code,
            subject: c.to.subject,
            from: c.from.severity,
            to: c.to.severity,
          })),
        };
      },
    );
  };
}
