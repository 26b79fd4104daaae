/**
 * Domains registered for nightly audits, and each domain's report history:
 * PUT/GET/DELETE /v1/domains/:domain, GET /v1/domains, GET /v1/domains/:domain/reports,
 * GET /v1/domains/:domain/reports/:id, GET /v1/domains/:domain/latest, GET /v1/domains/:domain/diff.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Finding } from '@mailaudit/engine';
import { diffReports } from '@mailaudit/render';
import {
  type DomainRow,
  deleteDomain,
  getDomain,
  getReport,
  latestReports,
  listDomains,
  listReports,
  type ReportRow,
  upsertDomain,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import {
  DiffQuery,
  DomainBody,
  DomainParams,
  DomainView,
  errorResponses,
  PageQuery,
  Report,
  ReportSummary,
} from '../schemas.js';
import { domainFrom } from './domain-param.js';
import { decodeCursor, encodeCursor, pageSize } from './paging.js';

function domainView(d: DomainRow) {
  return {
    domain: d.domain,
    nightly: d.nightly,
    recipients: d.recipients,
    dkimSelectors: d.dkimSelectors,
    extraHosts: d.extraHosts,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** A report's summary with its full body (CONTRACT.md section 2). */
const ReportWithBody = Type.Object({ ...ReportSummary.properties, report: Report });

function reportSummary(r: Omit<ReportRow, 'report'>) {
  return {
    id: r.id,
    auditId: r.auditId,
    domain: r.domain,
    score: r.score,
    grade: r.grade,
    scoringVersion: r.scoringVersion,
    createdAt: r.createdAt.toISOString(),
  };
}

const FindingView = Type.Object({
  code: Type.String(),
  severity: Type.String(),
  category: Type.String(),
  subject: Type.String(),
  message: Type.String(),
});
const findingView = (f: Finding) => ({
  code: f.code,
  severity: f.severity,
  category: f.category,
  subject: f.subject,
  message: f.message,
});

export function domainRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tenant = (req: { auth?: { tenantId: string } }) => (req.auth as { tenantId: string }).tenantId;

    app.put(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Register a domain for nightly audits (or update it)',
          params: DomainParams,
          body: DomainBody,
          response: { 200: DomainView, 201: DomainView, ...errorResponses },
        },
      },
      async (req, reply) => {
        const domain = domainFrom(req.params.domain);
        const b = req.body;
        const existing = await getDomain(ctx.sql, tenant(req), domain);
        const { row, created } = await upsertDomain(ctx.sql, tenant(req), {
          domain,
          nightly: b.nightly ?? existing?.nightly ?? true,
          recipients: b.recipients ?? existing?.recipients ?? [],
          dkimSelectors: b.dkimSelectors ?? existing?.dkimSelectors ?? [],
          extraHosts: (b.extraHosts ?? existing?.extraHosts ?? []).map((h, i) => domainFrom(h, `extraHosts[${i}]`)),
        });
        return reply.code(created ? 201 : 200).send(domainView(row));
      },
    );

    app.get(
      '/domains/:domain',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'A registered domain',
          params: DomainParams,
          response: { 200: DomainView, ...errorResponses },
        },
      },
      async (req) => {
        const row = await getDomain(ctx.sql, tenant(req), domainFrom(req.params.domain));
        if (!row) throw errors.notFound('domain');
        return domainView(row);
      },
    );

    app.delete(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Stop watching a domain (its reports stay)',
          params: DomainParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        if (!(await deleteDomain(ctx.sql, tenant(req), domainFrom(req.params.domain)))) throw errors.notFound('domain');
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/domains',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Registered domains, by name',
          querystring: PageQuery,
          response: {
            200: Type.Object({ domains: Type.Array(DomainView), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        let after: string | undefined;
        if (req.query.cursor) {
          after = Buffer.from(req.query.cursor, 'base64url').toString('utf8');
          if (!/^[a-z0-9.-]{1,253}$/.test(after)) throw errors.badRequest('cursor: not a cursor this API gave');
        }
        const rows = await listDomains(ctx.sql, tenant(req), limit + 1, after);
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          domains: page.map(domainView),
          nextCursor: rows.length > limit && last ? Buffer.from(last.domain).toString('base64url') : null,
        };
      },
    );

    app.get(
      '/domains/:domain/reports',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A domain's reports, newest first",
          params: DomainParams,
          querystring: PageQuery,
          response: {
            200: Type.Object({
              reports: Type.Array(ReportSummary),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const rows = await listReports(
          ctx.sql,
          tenant(req),
          domainFrom(req.params.domain),
          limit + 1,
          decodeCursor(req.query.cursor),
        );
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          reports: page.map(reportSummary),
          nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
        };
      },
    );

    app.get(
      '/domains/:domain/reports/:id',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'One report',
          params: Type.Object({ domain: Type.String({ maxLength: 1024 }), id: Type.String({ format: 'uuid' }) }),
          response: { 200: ReportWithBody, ...errorResponses },
        },
      },
      async (req) => {
        const r = await getReport(ctx.sql, tenant(req), domainFrom(req.params.domain), req.params.id);
        if (!r) throw errors.notFound('report');
        return { ...reportSummary(r), report: r.report };
      },
    );

    app.get(
      '/domains/:domain/latest',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A domain's latest report",
          params: DomainParams,
          response: { 200: ReportWithBody, ...errorResponses },
        },
      },
      async (req) => {
        const [r] = await latestReports(ctx.sql, tenant(req), domainFrom(req.params.domain), 1);
        if (!r) throw errors.notFound('report');
        return { ...reportSummary(r), report: r.report };
      },
    );

    app.get(
      '/domains/:domain/diff',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'What changed between two reports',
          description:
            'Findings added and resolved (a finding is its code and subject), severity changes, score and grade change. Without `from`/`to`: the two latest reports.',
          params: DomainParams,
          querystring: DiffQuery,
          response: {
            200: Type.Object({
              from: ReportSummary,
              to: ReportSummary,
              scoreChange: Type.Integer(),
              gradeFrom: Type.String(),
              gradeTo: Type.String(),
              regressed: Type.Boolean(),
              added: Type.Array(FindingView),
              resolved: Type.Array(FindingView),
              changed: Type.Array(
                Type.Object({ code: Type.String(), subject: Type.String(), from: Type.String(), to: Type.String() }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const domain = domainFrom(req.params.domain);
        const t = tenant(req);
        let from: ReportRow | undefined;
        let to: ReportRow | undefined;
        if (req.query.from || req.query.to) {
          if (!req.query.from || !req.query.to) throw errors.badRequest('give both from and to, or neither');
          [from, to] = await Promise.all([
            getReport(ctx.sql, t, domain, req.query.from),
            getReport(ctx.sql, t, domain, req.query.to),
          ]);
        } else {
          [to, from] = await latestReports(ctx.sql, t, domain, 2);
        }
        if (!from || !to) throw errors.notFound(req.query.from ? 'report' : 'two reports of this domain');
        const d = diffReports(from.report, to.report);
        return {
          from: reportSummary(from),
          to: reportSummary(to),
          scoreChange: d.scoreChange,
          gradeFrom: d.gradeFrom,
          gradeTo: d.gradeTo,
          regressed: d.regressed,
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
