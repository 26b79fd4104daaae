/**
 * The webhook delivery log: GET /v1/webhooks/deliveries.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listDeliveries } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, KEYED, ok } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import { NextCursor, PageQuery } from '../schemas.js';

export function webhookRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/webhooks/deliveries',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Webhook deliveries, newest first (the delivery log)',
          tags: ['webhooks'],
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object(
                {
                  deliveries: Type.Array(
                    Type.Object(
                      {
                        id: Type.String({ format: 'uuid', description: 'Also the webhook-id header' }),
                        event: Type.String({
                          description: 'audit.completed, domain.changed, message.received or webhook.test',
                        }),
                        url: Type.String(),
                        status: Type.Unsafe<string>({
                          type: 'string',
                          enum: ['pending', 'delivered', 'failed'],
                          description: 'pending: not yet delivered, retried; failed: given up',
                        }),
                        attempts: Type.Integer(),
                        responseStatus: Type.Union([Type.Integer(), Type.Null()]),
                        lastError: Type.Union([Type.String(), Type.Null()]),
                        createdAt: Type.String({ format: 'date-time' }),
                        deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                      },
                      { title: 'WebhookDelivery' },
                    ),
                  ),
                  nextCursor: NextCursor,
                },
                { title: 'WebhookDeliveryList' },
              ),
              'A page of deliveries',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const { items: rows, nextCursor } = page(
          await listDeliveries(ctx.sql, req.tenantId, limit + 1, afterTime(byTime.decode(req.query.cursor))),
          limit,
          byTime,
          timeKey,
        );
        return {
          deliveries: rows.map((d) => ({
            id: d.id,
            event: d.event,
            url: d.url,
            status: d.status,
            attempts: d.attempts,
            responseStatus: d.responseStatus,
            lastError: d.lastError,
            createdAt: d.createdAt.toISOString(),
            deliveredAt: d.deliveredAt?.toISOString() ?? null,
          })),
          nextCursor,
        };
      },
    );
  };
}
