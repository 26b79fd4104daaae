/**
 * The finding codes and categories with their texts, for a panel to show and localise:
 * GET /v1/codes (language by `?lang=`, else `Accept-Language`, else English).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { categoryText, findingText, LOCALES, pickLocale } from '@mailaudit/catalog';
import { CATEGORY_IDS, CODES } from '@mailaudit/engine';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { errorResponses, Report, SEVERITY_VALUES } from '../schemas.js';

const CodeView = Type.Object({
  code: Type.String({ description: 'Stable identifier, e.g. dmarc.policy.none' }),
  severity: Type.Unsafe<string>({ type: 'string', enum: [...SEVERITY_VALUES] }),
  category: Type.Unsafe<string>({ type: 'string', enum: [...CATEGORY_IDS] }),
  title: Type.String(),
  description: Type.String({ description: 'Why it matters' }),
  fix: Type.String({ description: 'How to fix it' }),
});

const CategoryView = Type.Object({
  id: Type.Unsafe<string>({ type: 'string', enum: [...CATEGORY_IDS] }),
  name: Type.String(),
  description: Type.String(),
});

export function codeRoutes(_ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/codes',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Every finding code and category, with texts in a language',
          description:
            'The language is `lang`, else the best of `Accept-Language`, else English. The severity of a code is its usual one: a few codes are reported at another severity in some conditions (docs/codes.md).',
          querystring: Type.Object(
            {
              lang: Type.Optional(
                Type.Unsafe<string>({ type: 'string', enum: [...LOCALES], description: 'Language of the texts' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              locale: Type.String(),
              codes: Type.Array(CodeView),
              categories: Type.Array(CategoryView),
            }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const header = req.headers['accept-language'];
        const locale = pickLocale(req.query.lang, Array.isArray(header) ? header.join(',') : header);
        if (!locale) throw errors.badRequest('no language');
        reply.header('content-language', locale).header('vary', 'Accept-Language');
        return {
          locale,
          codes: Object.entries(CODES).map(([code, info]) => {
            const t = findingText(locale, code);
            return {
              code,
              severity: info.severity,
              category: info.category,
              title: t.title,
              description: t.why,
              fix: t.fix,
            };
          }),
          categories: CATEGORY_IDS.map((id) => ({ id, ...categoryText(locale, id) })),
        };
      },
    );
  };
}

/** The report's JSON Schema (the API's own validation schema of it): GET /v1/schemas/report.json. */
export function schemaRoutes(_ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/schemas/report.json',
      {
        schema: {
          summary: 'JSON Schema of the report (mailaudit.report/1)',
          description: 'Needs no key. The report is described in words in docs/report.md.',
          security: [],
        },
      },
      async (_req, reply) => {
        reply.header('content-type', 'application/schema+json; charset=utf-8');
        return JSON.stringify({
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          $id: 'mailaudit.report/1',
          title: 'mailaudit report',
          ...JSON.parse(JSON.stringify(Report)),
        });
      },
    );
  };
}
