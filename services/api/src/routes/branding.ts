/**
 * The tenant's branding (GET and PUT /v1/settings/branding): what its customers see on the pages
 * and in the emails instead of our name. `brandOf` turns it into what the templates take.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Brand, brandOf as renderBrandOf } from '@mailaudit/render';
import { type Branding, getBranding, updateBranding } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { BODY, errorsOf, KEYED, ok } from '../openapi.js';

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
      Nullable(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' })),
    ),
    footerText: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
    supportUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
  },
  {
    additionalProperties: false,
    title: 'BrandingChange',
    examples: [{ productName: 'Example Hosting Mail Check', accentColor: '#0a5cad' }],
  },
);

/** What the templates show for a tenant: its product name, else its own name (one definition, in render). */
export const brandOf: (b: Branding & { tenantName: string }) => Brand = renderBrandOf;

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
        const { tenantName: _n, ...view } = b;
        return view;
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
          response: { 200: ok(BrandingView, 'The branding as saved'), ...errorsOf(...BODY, ...KEYED) },
        },
      },
      async (req) => {
        const current = await getBranding(ctx.sql, req.tenantId);
        if (!current) throw errors.notFound('tenant');
        const b = req.body;
        const pick = <K extends keyof Branding>(k: K): Branding[K] =>
          b[k] === undefined ? current[k] : (b[k] as Branding[K]);
        const updated = await updateBranding(ctx.sql, req.tenantId, {
          productName: pick('productName'),
          logo: pick('logo'),
          accentColor: pick('accentColor'),
          senderName: pick('senderName'),
          senderAddress: pick('senderAddress'),
          footerText: pick('footerText'),
          supportUrl: pick('supportUrl'),
        });
        if (!updated) throw errors.notFound('tenant');
        return updated;
      },
    );
  };
}
