/**
 * GET /r/:id?t=<token>: one report as an HTML page, for the links in summary emails. Needs no key:
 * the token, an HMAC of the report id under REPORT_LINK_SECRET, authorizes this one report.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { renderHtml, verifyReportLink } from '@mailaudit/render';
import { getReportById } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';

export function reportPageRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/r/:id',
      {
        schema: {
          summary: 'A report as an HTML page, for links in emails',
          description:
            'Needs no key: the `t` token, an HMAC of the report id under REPORT_LINK_SECRET, authorizes this one report.',
          security: [],
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          querystring: Type.Object({ t: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        const { t } = req.query;
        const secret = ctx.config.reportLinkSecret;
        const row = secret && verifyReportLink(secret, id, t) ? await getReportById(ctx.sql, id) : undefined;
        if (!row) throw errors.notFound('report');
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'private, max-age=300')
          .header('x-robots-tag', 'noindex')
          .send(renderHtml(row.report));
      },
    );
  };
}
