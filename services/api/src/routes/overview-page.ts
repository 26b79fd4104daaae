/**
 * The tenant's overview page, GET /o/:tenant?e=<expiry>&t=<token>: every registered domain with
 * grade, score, trend, worst finding and last audit, sorted (`sort`, `dir`) and filtered by grade
 * (`grade`, repeatable) on the server. Needs no key: the token, an HMAC of the tenant id and the
 * expiry time under REPORT_LINK_SECRET, authorizes it until then. POST /v1/overview-link makes one.
 * The same data is GET /v1/domains (routes/domains.ts), from the same store function.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GRADES } from '@mailaudit/engine';
import {
  type OverviewItem,
  type OverviewSortKey,
  overviewLinkToken,
  renderErrorPage,
  renderOverviewPage,
  reportLinkToken,
  verifyOverviewLink,
} from '@mailaudit/render';
import { getBranding, getSettings, listOverview, overviewTotals, worstFindings } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, media, ok, PATH } from '../openapi.js';
import { pageBrand } from './branding.js';
import { languageLinks, readerLocale } from './report-pages.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The most domains one page shows; a grade filter narrows it down. */
export const OVERVIEW_PAGE_LIMIT = 500;
const SORTS: OverviewSortKey[] = ['domain', 'score', 'severity', 'auditedAt'];

/** The path and query of a tenant's overview link valid until `expires` (Unix seconds). */
export function overviewPath(secret: string, tenantId: string, expires: number): string {
  return `/o/${tenantId}?${new URLSearchParams({ e: String(expires), t: overviewLinkToken(secret, tenantId, expires) })}`;
}

export function overviewPageRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/o/:tenant',
      {
        schema: {
          summary: "The tenant's overview as an HTML page, behind a signed, expiring link",
          description:
            'Needs no key: `e` (expiry, Unix seconds) and `t` (an HMAC of the tenant and `e` under REPORT_LINK_SECRET). `sort` = domain|score|severity|auditedAt, `dir` = asc|desc, `grade` (repeatable) filters, `lang` = en|tr (else the tenant’s default locale, else Accept-Language). An expired link answers a page with status 410, a broken one 404.',
          tags: ['pages'],
          security: [],
          params: Type.Object({ tenant: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({
            e: Type.Optional(Type.String({ maxLength: 12 })),
            t: Type.Optional(Type.String({ maxLength: 64 })),
            lang: Type.Optional(Type.String({ maxLength: 35 })),
            sort: Type.Optional(Type.String({ maxLength: 20 })),
            dir: Type.Optional(Type.String({ maxLength: 4 })),
            grade: Type.Optional(
              Type.Union([Type.String({ maxLength: 2 }), Type.Array(Type.String({ maxLength: 2 }), { maxItems: 6 })]),
            ),
          }),
          response: {
            200: media('text/html', 'The overview page'),
            404: media('text/html', 'A page saying the link is broken'),
            410: media('text/html', 'A page saying the link has expired'),
            ...errorsOf(400, ...PATH),
          },
        },
      },
      async (req, reply) => {
        const { tenant: tenantId } = req.params;
        const q = req.query;
        const secret = ctx.config.reportLinkSecret;
        const expires = Number(q.e);
        const state =
          secret && q.t && UUID.test(tenantId) && Number.isSafeInteger(expires)
            ? verifyOverviewLink(secret, tenantId, expires, q.t, new Date())
            : 'invalid';
        const tenant = state === 'valid' ? await getBranding(ctx.sql, tenantId) : undefined;
        if (!tenant || !secret) {
          const kind = state === 'expired' ? 'expired' : 'notFound';
          return reply.html(
            renderErrorPage(kind, { locale: readerLocale(req, q.lang), brand: { name: '' }, nonce: reply.cspNonce }),
            kind === 'expired' ? 410 : 404,
          );
        }
        const settings = await getSettings(ctx.sql, tenantId);
        const locale = readerLocale(req, q.lang, settings?.locale);
        const sort = SORTS.includes(q.sort as OverviewSortKey) ? (q.sort as OverviewSortKey) : 'domain';
        const descending = q.dir === 'desc';
        const grades = [q.grade ?? []].flat().filter((g) => (GRADES as readonly string[]).includes(g));
        const rows = await listOverview(ctx.sql, tenantId, {
          sort,
          descending,
          ...(grades.length ? { grades } : {}),
          limit: OVERVIEW_PAGE_LIMIT + 1,
        });
        const shown = rows.slice(0, OVERVIEW_PAGE_LIMIT).map((r) => r.row);
        const worst = await worstFindings(
          ctx.sql,
          shown.flatMap((r) => (r.summary ? [r.summary.reportId] : [])),
        );
        const items: OverviewItem[] = shown.map((r) => {
          const s = r.summary;
          const w = s ? worst.get(s.reportId) : undefined;
          return {
            domain: r.domain,
            grade: s?.grade ?? null,
            score: s?.score ?? null,
            trend: s?.trend ?? null,
            previousScore: s?.previousScore ?? null,
            worst: w ? { code: w.code, severity: w.severity, params: w.params } : null,
            auditedAt: s?.auditedAt ?? null,
            reportUrl: s ? `/r/${s.reportId}?t=${reportLinkToken(secret, s.reportId)}&lang=${locale}` : null,
          };
        });
        const totals = await overviewTotals(ctx.sql, tenantId);
        const keep = { e: String(expires), t: q.t as string, lang: locale };
        return reply
          .header('cache-control', 'private, no-store')
          .header('content-language', locale)
          .html(
            renderOverviewPage(items, {
              locale,
              brand: pageBrand(tenantId, tenant),
              nonce: reply.cspNonce,
              timeZone: settings?.timezone ?? 'UTC',
              state: {
                sort,
                descending,
                grades,
                keep,
                path: `/o/${tenantId}`,
                truncated: rows.length > OVERVIEW_PAGE_LIMIT,
                total: grades.length ? grades.reduce((n, g) => n + (totals.byGrade[g] ?? 0), 0) : totals.domains,
              },
              languageLinks: languageLinks(`/o/${tenantId}`, {
                e: keep.e,
                t: keep.t,
                sort,
                dir: descending ? 'desc' : 'asc',
              }),
            }),
          );
      },
    );
  };
}

/** POST /v1/overview-link: a link to the tenant's overview page, valid for `days`. */
export function overviewLinkRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/overview-link',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A signed link to the tenant's overview page, for its customers or staff",
          description: '503 when the service has no REPORT_LINK_SECRET to sign links with.',
          tags: ['pages'],
          body: Type.Object(
            {
              days: Type.Optional(
                Type.Integer({ minimum: 1, maximum: 90, description: 'Valid this many days (default 30)' }),
              ),
            },
            { additionalProperties: false, title: 'OverviewLinkRequest' },
          ),
          response: {
            200: ok(
              Type.Object(
                { url: Type.String({ format: 'uri' }), expiresAt: Type.String({ format: 'date-time' }) },
                { title: 'OverviewLink' },
              ),
              'The link',
            ),
            ...errorsOf(...BODY, ...KEYED),
          },
        },
      },
      async (req) => {
        const secret = ctx.config.reportLinkSecret;
        if (!secret) throw errors.unavailable('REPORT_LINK_SECRET is not set: no page links can be made');
        const expires = Math.floor(Date.now() / 1000) + (req.body?.days ?? 30) * 86_400;
        return {
          url: `${ctx.config.publicUrl}${overviewPath(secret, req.tenantId, expires)}`,
          expiresAt: new Date(expires * 1000).toISOString(),
        };
      },
    );
  };
}
