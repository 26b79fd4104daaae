/**
 * GET /metrics: the process's Prometheus registry (packages/telemetry defines the series). Needs
 * no key.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../context.js';
import { media } from '../openapi.js';

export function metricsRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics',
          tags: ['health'],
          security: [],
          response: { 200: media('text/plain', 'The metrics, in the Prometheus text format') },
        },
      },
      async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics()),
    );
  };
}
