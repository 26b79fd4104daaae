/**
 * Summary and alert emails with their sending status: GET /v1/emails; the addresses that
 * unsubscribed (one click, routes/unsubscribe.ts): GET /v1/emails/opt-outs.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listEmails, listOptOuts } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, KEYED, ok } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import { NextCursor, PageQuery } from '../schemas.js';

export function emailRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/emails',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Summary and alert emails, newest first, with their sending status',
          tags: ['emails'],
          querystring: PageQuery,
          response: {
            200: ok(
              Type.Object(
                {
                  emails: Type.Array(
                    Type.Object(
                      {
                        id: Type.String({ format: 'uuid' }),
                        kind: Type.Unsafe<string>({ type: 'string', enum: ['summary', 'alert'] }),
                        recipients: Type.Array(Type.String()),
                        subject: Type.String(),
                        status: Type.Unsafe<string>({
                          type: 'string',
                          enum: ['pending', 'sent', 'failed', 'skipped'],
                        }),
                        attempts: Type.Integer(),
                        lastError: Type.Union([Type.String(), Type.Null()]),
                        createdAt: Type.String({ format: 'date-time' }),
                        sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                      },
                      { title: 'Email' },
                    ),
                  ),
                  nextCursor: NextCursor,
                },
                { title: 'EmailList' },
              ),
              'A page of emails',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const { items: rows, nextCursor } = page(
          await listEmails(ctx.sql, req.tenantId, limit + 1, afterTime(byTime.decode(req.query.cursor))),
          limit,
          byTime,
          timeKey,
        );
        return {
          emails: rows.map((e) => ({
            id: e.id,
            kind: e.kind,
            recipients: e.recipients,
            subject: e.subject,
            status: e.status,
            attempts: e.attempts,
            lastError: e.lastError,
            createdAt: e.createdAt.toISOString(),
            sentAt: e.sentAt?.toISOString() ?? null,
          })),
          nextCursor,
        };
      },
    );

    app.get(
      '/emails/opt-outs',
      {
        config: { scope: 'read' },
        schema: {
          summary: "The addresses that unsubscribed from the tenant's summaries and alerts",
          description:
            "Each unsubscribed with the one-click link of an email (List-Unsubscribe, RFC 8058) and gets none of the tenant's emails, for any domain, until it subscribes again from the same link; the domains' recipient lists are unchanged. Newest first.",
          tags: ['emails'],
          response: {
            200: ok(
              Type.Object(
                {
                  optOuts: Type.Array(
                    Type.Object(
                      { address: Type.String(), createdAt: Type.String({ format: 'date-time' }) },
                      { title: 'OptOut' },
                    ),
                  ),
                },
                { title: 'OptOutList' },
              ),
              'Every unsubscribed address',
            ),
            ...errorsOf(...KEYED),
          },
        },
      },
      async (req) => ({
        optOuts: (await listOptOuts(ctx.sql, req.tenantId)).map((o) => ({
          address: o.address,
          createdAt: o.createdAt.toISOString(),
        })),
      }),
    );
  };
}
