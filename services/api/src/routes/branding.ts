/**
 * The tenant's branding (GET and PUT /v1/settings/branding): what its customers see on the pages
 * and in the emails instead of our name. `brandOf` turns it into what the templates take.
 *
 * The logo is uploaded (a data: URL) or named by URL: then the API fetches it once, at the PUT,
 * through the engine's guarded HTTP client (no loopback, private or reserved address unless
 * MAILAUDIT_ALLOW_PRIVATE_TARGETS; no redirects; 10 s; at most 100 KB; PNG, JPEG, WebP or SVG by
 * its bytes) and keeps the image in Postgres beside the uploaded ones. Pages load it from our own
 * origin, GET /brand/<tenant>/logo, never from the tenant's server. PUT the same URL again to fetch
 * it anew.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GuardError, HttpError } from '@mailaudit/engine';
import {
  type Brand,
  LOGO_MAX_BYTES,
  LOGO_TYPES,
  logoDataUrl,
  logoPath,
  parseLogo,
  brandOf as renderBrandOf,
  sniffImage,
} from '@mailaudit/render';
import { type Branding, getBranding, updateBranding } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, media, ok, PATH } from '../openapi.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const BrandingView = Type.Object(
  {
    productName: Nullable(Type.String()),
    logo: Nullable(Type.String()),
    accentColor: Nullable(Type.String()),
    senderName: Nullable(Type.String()),
    senderAddress: Nullable(Type.String()),
    footerText: Nullable(Type.String()),
    supportUrl: Nullable(Type.String()),
    logoUrl: Nullable(Type.String({ description: 'Where the logo was fetched from; null when it was uploaded' })),
    logoFetchedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'Branding', description: 'null: not set (our own name, colours and sender)' },
);

const BrandingBody = Type.Object(
  {
    productName: Type.Optional(
      Nullable(Type.String({ minLength: 1, maxLength: 100, description: "Shown instead of the tenant's name" })),
    ),
    logo: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 140000,
          pattern: '^data:image/(png|jpeg|webp|svg\\+xml);base64,[A-Za-z0-9+/=]+$',
          description: 'The logo, uploaded as a data: URL (PNG, JPEG, WebP or SVG, at most about 100 KB)',
        }),
      ),
    ),
    accentColor: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' }))),
    senderName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    senderAddress: Type.Optional(
      Nullable(
        Type.String({
          minLength: 3,
          maxLength: 254,
          pattern: '^[^@\\s]+@[^@\\s]+$',
          description: 'The From address of the emails: one address, local@domain',
        }),
      ),
    ),
    footerText: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
    supportUrl: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2000,
          pattern: '^https?://',
          description: 'Where your customers get help: an http:// or https:// URL',
        }),
      ),
    ),
    logoUrl: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2000,
          pattern: '^https?://',
          description:
            'The logo by URL instead of `logo`: fetched now through the address guard (PNG, JPEG, WebP or SVG, at most 100 KB, no redirects), kept, and served from our own origin; 422 when it cannot be fetched or is not such an image. null removes a logo fetched so.',
        }),
      ),
    ),
  },
  {
    additionalProperties: false,
    title: 'BrandingChange',
    examples: [{ productName: 'Example Hosting Mail Check', accentColor: '#0a5cad' }],
  },
);

/** What the templates show for a tenant: its product name, else its own name (one definition, in render). */
export const brandOf: (b: Branding & { tenantName: string }) => Brand = renderBrandOf;

function view(b: Branding & { tenantName?: string }) {
  const { tenantName: _n, ...rest } = b;
  return { ...rest, logoFetchedAt: b.logoFetchedAt?.toISOString() ?? null };
}

/** The logo at `url`, fetched through the guard, as a data: URL; AppError 422 when it cannot be had. */
export async function fetchLogo(ctx: ApiContext, url: string): Promise<string> {
  const { http, reach } = ctx.web();
  const refuse = errors.logoUnavailable;
  let res: Awaited<ReturnType<typeof http.request>>;
  try {
    res = await http.request(
      {
        url,
        headers: { accept: 'image/png, image/jpeg, image/webp, image/svg+xml', 'user-agent': 'mailaudit-logo' },
        timeoutMs: 10_000,
        maxBodyBytes: LOGO_MAX_BYTES,
      },
      reach,
    );
  } catch (err) {
    if (err instanceof GuardError) throw refuse(`refusing to fetch from ${err.address} (${err.range})`);
    if (err instanceof HttpError)
      throw refuse(err.code === 'too_large' ? `larger than ${LOGO_MAX_BYTES} bytes` : `${err.code}: ${err.message}`);
    throw err;
  }
  if (res.status !== 200)
    throw refuse(`the server answered ${res.status}${res.status < 400 ? ' (redirects are not followed)' : ''}`);
  const type = sniffImage(res.body);
  if (!type) throw refuse('not a PNG, JPEG, WebP or SVG image');
  return logoDataUrl(type, res.body);
}

/** The brand as the pages show it: the logo loaded from our own origin, never as a URL of the tenant's. */
export function pageBrand(tenantId: string, b: Branding & { tenantName: string }): Brand {
  return { ...brandOf(b), logoUrl: b.logo ? logoPath(tenantId, b.logo) : null };
}

export function brandingRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/settings/branding',
      {
        config: { scope: 'read' },
        schema: {
          summary: "The tenant's branding",
          tags: ['settings'],
          response: { 200: ok(BrandingView, 'The branding'), ...errorsOf(...KEYED) },
        },
      },
      async (req) => {
        const b = await getBranding(ctx.sql, req.tenantId);
        if (!b) throw errors.notFound('tenant');
        return view(b);
      },
    );
    app.put(
      '/settings/branding',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Change the branding; a field left out is kept, null removes it',
          tags: ['settings'],
          body: BrandingBody,
          response: { 200: ok(BrandingView, 'The branding as saved'), ...errorsOf(...BODY, ...KEYED, 422) },
        },
      },
      async (req) => {
        const current = await getBranding(ctx.sql, req.tenantId);
        if (!current) throw errors.notFound('tenant');
        const b = req.body;
        const pick = <K extends keyof typeof b & keyof Branding>(k: K): Branding[K] =>
          b[k] === undefined ? current[k] : (b[k] as Branding[K]);
        if (b.logo != null && b.logoUrl != null)
          throw errors.invalidField(
            '/body/logoUrl',
            'give the logo either uploaded (logo) or by URL (logoUrl), not both',
          );
        // An upload replaces a fetched logo; a URL is fetched now; removing the URL removes its image.
        let logo: Pick<Branding, 'logo' | 'logoUrl' | 'logoFetchedAt'> = current;
        if (b.logo !== undefined) logo = { logo: b.logo, logoUrl: null, logoFetchedAt: null };
        else if (b.logoUrl)
          logo = { logo: await fetchLogo(ctx, b.logoUrl), logoUrl: b.logoUrl, logoFetchedAt: new Date() };
        else if (b.logoUrl === null && current.logoUrl) logo = { logo: null, logoUrl: null, logoFetchedAt: null };
        const updated = await updateBranding(ctx.sql, req.tenantId, {
          ...logo,
          productName: pick('productName'),
          accentColor: pick('accentColor'),
          senderName: pick('senderName'),
          senderAddress: pick('senderAddress'),
          footerText: pick('footerText'),
          supportUrl: pick('supportUrl'),
        });
        if (!updated) throw errors.notFound('tenant');
        return view(updated);
      },
    );
  };
}

/**
 * GET /brand/:tenant/logo: the tenant's logo from our own origin, for its pages (and emails). No
 * key: a logo is shown to whoever reads the tenant's pages. An SVG is served under a policy that
 * runs nothing, should someone open it as a document.
 */
export function brandLogoRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/brand/:tenant/logo',
      {
        schema: {
          summary: "A tenant's logo (uploaded, or fetched from its URL and kept)",
          description:
            'Needs no key. `v` (any value; the pages give a hash of the image) makes the answer cacheable for a year. An SVG comes with a policy under which nothing in it runs.',
          tags: ['pages'],
          security: [],
          params: Type.Object({ tenant: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 32 })) }),
          response: {
            200: {
              description: 'The logo',
              content: Object.fromEntries(
                LOGO_TYPES.map((type) => [type, { schema: Type.String({ format: 'binary' }) }]),
              ),
            },
            404: media('text/plain', 'The tenant has no logo (or there is no such tenant)'),
            ...errorsOf(400, ...PATH),
          },
        },
      },
      async (req, reply) => {
        const { tenant } = req.params;
        const b = UUID.test(tenant) ? await getBranding(ctx.sql, tenant) : undefined;
        const logo = b?.logo ? parseLogo(b.logo) : undefined;
        if (!logo) return reply.code(404).type('text/plain; charset=utf-8').send('no logo');
        return reply
          .type(logo.type)
          .header('cache-control', req.query.v ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
          .send(logo.body);
      },
    );
  };
}
