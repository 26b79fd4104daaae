/**
 * Nightly runs: POST /v1/nightly/run runs the tenant's cycle now; GET /v1/nightly/runs lists them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listNightlyRuns } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, ok } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import { NextCursor, PageQuery } from '../schemas.js';

export function nightlyRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/nightly/run',
      {
        config: { scope: 'admin' },
        schema: {
          summary: "Run the tenant's nightly cycle now",
          description:
            "Audits every domain registered with nightly on, then sends the summaries and webhooks, as the scheduled run does. A night mails each address once: an address that already has this night's summary gets none again, unless `force=true`.",
          tags: ['nightly'],
          querystring: Type.Object(
            {
              force: Type.Optional(
                Type.Union([Type.Literal('true'), Type.Literal('false')], {
                  description: "true: mail even the addresses that already have this night's summary",
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            202: ok(Type.Object({ queued: Type.Literal(true) }, { title: 'NightlyQueued' }), 'The cycle is queued'),
            ...errorsOf(...BODY, ...KEYED),
          },
        },
      },
      async (req, reply) => {
        await ctx.tasks
          .add(
            'nightly',
            {
              kind: 'nightly',
              tenantId: req.tenantId,
              trigger: 'api',
              at: new Date().toISOString(),
              force: req.query.force === 'true',
            },
            { removeOnComplete: 100 },
          )
          .catch(() => {
            throw errors.unavailable('the queue is unreachable; nothing was started, retry later');
          });
        return reply.code(202).send({ queued: true as const });
      },
    );

    app.get(
      '/nightly/runs',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Nightly runs, newest first',
          tags: ['nightly'],
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object(
                {
                  runs: Type.Array(
                    Type.Object(
                      {
                        id: Type.String({ format: 'uuid' }),
                        night: Type.String({ format: 'date', description: "The night, in the tenant's time zone" }),
                        trigger: Type.Unsafe<string>({ type: 'string', enum: ['schedule', 'api', 'command'] }),
                        status: Type.Unsafe<string>({ type: 'string', enum: ['running', 'done'] }),
                        audits: Type.Integer(),
                        startedAt: Type.String({ format: 'date-time' }),
                        finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                      },
                      { title: 'NightlyRun' },
                    ),
                  ),
                  nextCursor: NextCursor,
                },
                { title: 'NightlyRunList' },
              ),
              'A page of runs',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const { items: runs, nextCursor } = page(
          await listNightlyRuns(ctx.sql, req.tenantId, limit + 1, afterTime(byTime.decode(req.query.cursor))),
          limit,
          byTime,
          timeKey,
        );
        return {
          runs: runs.map((r) => ({
            id: r.id,
            night: r.runKey.slice(0, 10),
            trigger: r.trigger,
            status: r.status,
            audits: r.audits,
            startedAt: r.startedAt.toISOString(),
            finishedAt: r.finishedAt?.toISOString() ?? null,
          })),
          nextCursor,
        };
      },
    );
  };
}
