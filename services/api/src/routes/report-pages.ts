/**
 * GET /r/:id?t=<token>[&lang=en|tr]: one report as a page, for the links in summary emails and for
 * the control panel. Needs no key: the token, an HMAC of the report id under REPORT_LINK_SECRET,
 * authorizes this one report. A broken link answers a page too (404), never JSON.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Finding } from '@mailaudit/engine';
import {
  type Brand,
  LOCALES,
  type Locale,
  pickLocale,
  renderErrorPage,
  renderReportPage,
  verifyReportLink,
} from '@mailaudit/render';
import { getBranding, getReportById, getSettings, messageTestsForReport, scoreHistory } from '@mailaudit/store';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, media, PATH } from '../openapi.js';
import { pageBrand } from './branding.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How many of a domain's reports the score history shows. */
export const HISTORY_POINTS = 12;

/**
 * The reader's language: `?lang=`, then the tenant's default locale (settings), then the browser's
 * `Accept-Language`, then English. A tenant always has a default (`en` until changed), so the
 * browser's choice decides only where no tenant is known: a broken or expired link.
 */
export function readerLocale(req: FastifyRequest, lang: string | undefined, tenantDefault?: string | null): Locale {
  const header = req.headers['accept-language'];
  return pickLocale(lang, tenantDefault, Array.isArray(header) ? header.join(',') : header);
}

export function languageLinks(path: string, query: Record<string, string>) {
  return LOCALES.map((locale) => ({ locale, href: `${path}?${new URLSearchParams({ ...query, lang: locale })}` }));
}

export function reportPageRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/r/:id',
      {
        schema: {
          summary: 'A report as an HTML page, for links in emails and the control panel',
          description:
            "Needs no key: the `t` token, an HMAC of the report id under REPORT_LINK_SECRET, authorizes this one report. The language: `lang` (en, tr), else the tenant's default locale (settings), else Accept-Language. A broken link answers an HTML page with status 404.",
          tags: ['pages'],
          security: [],
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({
            t: Type.Optional(Type.String({ maxLength: 64 })),
            lang: Type.Optional(Type.String({ maxLength: 35 })),
          }),
          response: {
            200: media('text/html', 'The report page'),
            404: media('text/html', 'A page saying the link is broken'),
            ...errorsOf(400, ...PATH),
          },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        const { t, lang } = req.query;
        const secret = ctx.config.reportLinkSecret;
        const valid = !!secret && !!t && UUID.test(id) && verifyReportLink(secret, id, t);
        const row = valid ? await getReportById(ctx.sql, id) : undefined;
        const tenant = row ? await getBranding(ctx.sql, row.tenantId) : undefined;
        if (!row || !tenant) {
          const locale = readerLocale(req, lang);
          return reply.html(renderErrorPage('notFound', { locale, brand: { name: '' }, nonce: reply.cspNonce }), 404);
        }
        const settings = await getSettings(ctx.sql, row.tenantId);
        const locale = readerLocale(req, lang, settings?.locale);
        const brand: Brand = pageBrand(row.tenantId, tenant);
        const history = await scoreHistory(ctx.sql, row.id, HISTORY_POINTS);
        const tests = await messageTestsForReport(ctx.sql, row.tenantId, row.id);
        const latest = tests.latest;
        return reply
          .header('cache-control', 'private, max-age=300')
          .header('content-language', locale)
          .html(
            renderReportPage(row.report, {
              locale,
              brand,
              nonce: reply.cspNonce,
              timeZone: settings?.timezone ?? 'UTC',
              history,
              messageTests: {
                count: tests.count,
                latest: latest && {
                  receivedAt: latest.receivedAt.toISOString(),
                  from: latest.headerFrom,
                  clientIp: latest.clientIp,
                  tlsVersion: latest.tlsVersion,
                  spf: latest.spf,
                  dkim: latest.dkim,
                  dmarc: latest.dmarc,
                  arc: latest.arc,
                  selectorsAdded: latest.selectorsAdded,
                  findings: Array.isArray(latest.result.findings) ? (latest.result.findings as Finding[]) : [],
                },
              },
              languageLinks: languageLinks(`/r/${id}`, { t: t as string }),
            }),
          );
      },
    );
  };
}
