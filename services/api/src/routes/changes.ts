/**
 * What changed at each of a domain's audits, newest first: GET /v1/domains/:domain/changes.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listChanges } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, KEYED, ok, PATH } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import { DomainParams, NextCursor, PageQuery, StoredDiff } from '../schemas.js';
import { domainFrom } from './domain-param.js';

export function changeRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/domains/:domain/changes',
      {
        config: { scope: 'read' },
        schema: {
          summary: "What changed at each of a domain's audits, newest first",
          tags: ['reports'],
          params: DomainParams,
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object(
                {
                  changes: Type.Array(
                    Type.Object(
                      {
                        reportId: Type.String({ format: 'uuid' }),
                        previousReportId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
                        nightlyRunId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
                        changed: Type.Boolean(),
                        regressed: Type.Boolean(),
                        diff: StoredDiff,
                        createdAt: Type.String({ format: 'date-time' }),
                      },
                      { title: 'Change' },
                    ),
                  ),
                  nextCursor: NextCursor,
                },
                { title: 'ChangeList' },
              ),
              'A page of changes',
            ),
            ...errorsOf(400, ...PATH, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const { items: rows, nextCursor } = page(
          await listChanges(
            ctx.sql,
            req.tenantId,
            domainFrom(req.params.domain),
            limit + 1,
            afterTime(byTime.decode(req.query.cursor)),
          ),
          limit,
          byTime,
          timeKey,
        );
        return {
          changes: rows.map((c) => ({
            reportId: c.reportId,
            previousReportId: c.previousReportId,
            nightlyRunId: c.nightlyRunId,
            changed: c.changed,
            regressed: c.regressed,
            diff: c.diff,
            createdAt: c.createdAt.toISOString(),
          })),
          nextCursor,
        };
      },
    );
  };
}
