/**
 * Findings across a tenant's registered domains, from their latest reports only:
 * GET /v1/findings?code=&severity=&category=&domain=.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CATEGORY_IDS, CODES } from '@mailaudit/engine';
import { listLatestFindings } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, KEYED, ok } from '../openapi.js';
import { cursorCodec, page, pageSize } from '../paging.js';
import { listParam } from '../query.js';
import { LatestFindingsQuery, LatestFindingView, NextCursor, SEVERITY_VALUES } from '../schemas.js';
import { domainFrom } from './domain-param.js';

/** Position: domain, code, subject of the page's last finding. */
const byFinding = cursorCodec(
  Type.Tuple([
    Type.String({ pattern: '^[a-z0-9.-]{1,253}$' }),
    Type.String({ maxLength: 100 }),
    Type.String({ maxLength: 600 }),
  ]),
);

export function findingRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/findings',
      {
        config: { scope: 'read' },
        schema: {
          summary: "Findings of the latest reports of the tenant's domains",
          description:
            'One row per finding of each registered domain\'s latest report, by domain, code and subject: "which of my domains have dmarc.policy.none", "every critical finding". Filters combine with AND; a comma-separated list means any of its values.',
          tags: ['findings'],
          querystring: LatestFindingsQuery,
          response: {
            200: ok(
              Type.Object(
                { findings: Type.Array(LatestFindingView), nextCursor: NextCursor },
                { title: 'FindingList' },
              ),
              'A page of findings',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const limit = pageSize(q.limit);
        const after = byFinding.decode(q.cursor);
        const rows = await listLatestFindings(ctx.sql, req.tenantId, {
          codes: listParam('code', q.code, Object.keys(CODES)),
          severities: listParam('severity', q.severity, SEVERITY_VALUES),
          categories: listParam('category', q.category, CATEGORY_IDS),
          ...(q.domain ? { domain: domainFrom(q.domain, '/query/domain') } : {}),
          limit: limit + 1,
          ...(after ? { after } : {}),
        });
        const { items, nextCursor } = page(rows, limit, byFinding, (f) => [f.domain, f.code, f.subject]);
        return {
          findings: items.map((f) => ({
            domain: f.domain,
            reportId: f.reportId,
            auditedAt: f.auditedAt.toISOString(),
            code: f.code,
            severity: f.severity,
            category: f.category,
            subject: f.subject,
            params: f.params,
          })),
          nextCursor,
        };
      },
    );
  };
}
