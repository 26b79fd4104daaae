/**
 * /healthz (the process answers) and /readyz (Postgres and Redis reachable). Neither needs a key.
 */
import { ping } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { within } from '../within.js';

export function healthRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          summary: 'The process is up',
          security: [],
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          summary: 'Postgres and Redis are reachable',
          security: [],
          response: {
            200: Type.Object({ status: Type.String(), postgres: Type.String(), redis: Type.String() }),
            503: Type.Object({ status: Type.String(), postgres: Type.String(), redis: Type.String() }),
          },
        },
      },
      async (_req, reply) => {
        const [pg, redis] = await Promise.all([
          within(2000, ping(ctx.sql)).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
          within(2000, ctx.redis.ping()).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
        ]);
        const ok = pg === 'ok' && redis === 'ok';
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', postgres: pg, redis });
      },
    );
  };
}
