/**
 * One-click unsubscribe (RFC 8058), at the URL of every email's List-Unsubscribe header and its
 * "manage" link: `/u/<token>`, the token being the tenant and the recipient's address signed under
 * REPORT_LINK_SECRET (render/links.ts). No key, no cookie: the token is the authorization.
 *
 * - `POST` unsubscribes that address from the tenant's summaries and alerts (all its domains;
 *   the other recipients are untouched), answers 200 with the confirmation page, and does so again
 *   when repeated. The body is whatever the mail client sends (RFC 8058 says
 *   `List-Unsubscribe=One-Click`, as form-urlencoded or multipart): the POST itself is the request.
 *   The page's own button posts `action=resubscribe` to undo it.
 * - `GET` only shows the page, with a button that POSTs: mail scanners and link previews open
 *   links, and opening one must never unsubscribe anybody.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { readUnsubscribeToken, renderErrorPage, renderUnsubscribePage } from '@mailaudit/render';
import { getBranding, getSettings, isOptedOut, optIn, optOut } from '@mailaudit/store';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errorsOf, media, PATH } from '../openapi.js';
import { pageBrand } from './branding.js';
import { readerLocale } from './report-pages.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const Params = Type.Object({ token: Type.String({ maxLength: 700, description: 'The signed token of the link' }) });
const Query = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 35, description: '`en` or `tr`' })) });

/** Form fields of a small body, urlencoded or multipart; anything else reads as no field. */
export function formFields(body: string, contentType: string | undefined): Record<string, string> {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const out: Record<string, string> = {};
    for (const m of body.matchAll(
      /content-disposition:\s*form-data;\s*name="([^"]{1,100})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]*)/gi,
    ))
      out[m[1] as string] = m[2] as string;
    return out;
  }
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  return {};
}

export function unsubscribeRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // Whatever a mail client posts is read as text here (RFC 8058 bodies are a few bytes), then as a form.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 4096 }, (req, body, done) => {
      done(null, formFields(String(body), req.headers['content-type']));
    });

    /** The token's tenant, address and brand; undefined (after answering 404) for a broken link. */
    async function resolve(req: FastifyRequest, reply: FastifyReply) {
      const { token } = req.params as { token: string };
      const { lang } = req.query as { lang?: string };
      const secret = ctx.config.reportLinkSecret;
      const who = secret ? readUnsubscribeToken(secret, token) : undefined;
      const tenant = who && UUID.test(who.tenantId) ? await getBranding(ctx.sql, who.tenantId) : undefined;
      if (!who || !tenant) {
        await reply.html(
          renderErrorPage('notFound', {
            locale: readerLocale(req, lang),
            brand: { name: '' },
            nonce: reply.cspNonce,
          }),
          404,
        );
        return undefined;
      }
      const settings = await getSettings(ctx.sql, who.tenantId);
      return { ...who, brand: pageBrand(who.tenantId, tenant), locale: readerLocale(req, lang, settings?.locale) };
    }

    const schema = {
      params: Params,
      querystring: Query,
      tags: ['pages'],
      security: [],
    };

    app.get(
      '/u/:token',
      {
        schema: {
          ...schema,
          summary: "A recipient's email preferences: the page of the List-Unsubscribe link",
          description:
            "Shows whether the address of the token receives the tenant's summaries and alerts, with a button that POSTs to this URL. Opening it changes nothing (mail scanners open links). A broken token answers a page with status 404.",
          response: {
            200: media('text/html', 'The page: whether the address receives the emails, and a button that POSTs'),
            404: media('text/html', 'A page saying the link is broken'),
            ...errorsOf(400, ...PATH),
          },
        },
      },
      async (req, reply) => {
        const r = await resolve(req, reply);
        if (!r) return reply;
        const state = (await isOptedOut(ctx.sql, r.tenantId, r.address)) ? 'unsubscribed' : 'subscribed';
        return reply
          .header('cache-control', 'private, no-store')
          .html(renderUnsubscribePage(state, r.address, { locale: r.locale, brand: r.brand, nonce: reply.cspNonce }));
      },
    );

    app.post(
      '/u/:token',
      {
        // A POST without a body is the same request (validation would refuse `undefined`).
        preValidation: async (req) => {
          req.body ??= {};
        },
        schema: {
          ...schema,
          summary: 'One-click unsubscribe (RFC 8058)',
          description:
            "Unsubscribes the address of the token from the tenant's summaries and alerts (every domain; the other recipients are untouched). Needs no key and no cookie: the token authorizes it. The body is RFC 8058's `List-Unsubscribe=One-Click` (form-urlencoded or multipart/form-data; any other body is read as the same request); `action=resubscribe` undoes it. Idempotent; answers 200 with the confirmation page.",
          consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'],
          'x-body-optional': true,
          body: Type.Object(
            {
              'List-Unsubscribe': Type.Optional(Type.String({ description: '`One-Click`', maxLength: 100 })),
              action: Type.Optional(Type.String({ description: '`resubscribe` to undo', maxLength: 100 })),
            },
            { additionalProperties: true },
          ),
          response: {
            200: media('text/html', 'The confirmation page (the same for a repeated request)'),
            404: media('text/html', 'A page saying the link is broken; nobody was unsubscribed'),
            ...errorsOf(400, 413, ...PATH),
          },
        },
      },
      async (req, reply) => {
        const r = await resolve(req, reply);
        if (!r) return reply;
        const again = (req.body as { action?: string } | undefined)?.action === 'resubscribe';
        if (again) await optIn(ctx.sql, r.tenantId, r.address);
        else await optOut(ctx.sql, r.tenantId, r.address);
        return reply.header('cache-control', 'no-store').html(
          renderUnsubscribePage(again ? 'resubscribed' : 'unsubscribed', r.address, {
            locale: r.locale,
            brand: r.brand,
            nonce: reply.cspNonce,
          }),
        );
      },
    );
  };
}
