/**
 * /healthz (the process answers) and /readyz (Postgres and Redis reachable, and the state of the
 * resolvers the audits ask: the control query, docs/operations.md). Neither needs a key.
 */
import { ResolverHealth } from '@mailaudit/engine';
import { ping } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { ok } from '../openapi.js';
import { within } from '../within.js';

const Resolvers = Type.Object(
  {
    status: Type.Unsafe<string>({
      type: 'string',
      enum: ['ok', 'failing', 'unknown'],
      description: '`ok`, `failing` (no resolver answers: audits are inconclusive) or `unknown`',
    }),
    failing: Type.Array(Type.String(), { description: 'the resolvers that did not answer the control query' }),
  },
  {
    description: "the workers' resolvers (MAILAUDIT_RESOLVERS), by the control query; they do not make the API unready",
  },
);
const Ready = Type.Object(
  {
    status: Type.Unsafe<string>({ type: 'string', enum: ['ready', 'not ready'] }),
    postgres: Type.String({ description: '`ok` or `down: <why>`' }),
    redis: Type.String({ description: '`ok` or `down: <why>`' }),
    resolvers: Resolvers,
  },
  { title: 'Readiness' },
);

export function healthRoutes(ctx: ApiContext): FastifyPluginAsync {
  // Only resolvers configured for the audits (MAILAUDIT_RESOLVERS): without them, `unknown`.
  const servers = ctx.config.resolvers;
  const health =
    servers.length > 0
      ? new ResolverHealth(servers, {
          now: () => Date.now(),
          ttlMs: ctx.config.resolverCheckTtlMs,
          timeoutMs: 1000,
          attempts: 1,
        })
      : undefined;
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          summary: 'The process is up',
          tags: ['health'],
          security: [],
          response: { 200: ok(Type.Object({ status: Type.Literal('ok') }), 'Up', [], false) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          summary: "Postgres and Redis are reachable; the resolvers' state",
          tags: ['health'],
          security: [],
          response: {
            200: ok(Ready, 'Ready: Postgres and Redis answer', [], false),
            503: ok(Ready, 'Not ready: Postgres or Redis does not answer', [], false),
          },
        },
      },
      async (_req, reply) => {
        const [pg, redis, control] = await Promise.all([
          within(2000, ping(ctx.sql)).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
          within(2000, ctx.redis.ping()).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
          health ? within(2500, health.check()).catch(() => undefined) : Promise.resolve(undefined),
        ]);
        const resolvers = control
          ? { status: control.ok ? 'ok' : 'failing', failing: control.failing }
          : { status: 'unknown', failing: [] };
        const ok = pg === 'ok' && redis === 'ok';
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', postgres: pg, redis, resolvers });
      },
    );
  };
}
