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
import { errorsOf, KEYED, media, ok } from '../openapi.js';
import { CategoryId, FindingCode, Report, Severity } from '../schemas.js';

const CodeView = Type.Object(
  {
    code: FindingCode,
    severity: Severity,
    category: CategoryId,
    title: Type.String(),
    description: Type.String({ description: 'Why it matters' }),
    fix: Type.String({ description: 'How to fix it' }),
  },
  {
    title: 'CodeText',
    examples: [
      {
        code: 'dmarc.policy.none',
        severity: 'warning',
        category: 'dmarc',
        title: 'DMARC policy is none',
        description: 'Receivers are told to deliver mail that fails DMARC anyway.',
        fix: 'Move to p=quarantine, then p=reject, once the reports show your own mail passes.',
      },
    ],
  },
);

const CategoryView = Type.Object(
  { id: CategoryId, name: Type.String(), description: Type.String() },
  { title: 'CategoryText' },
);

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
          tags: ['codes'],
          querystring: Type.Object(
            {
              lang: Type.Optional(
                Type.Unsafe<string>({ type: 'string', enum: [...LOCALES], description: 'Language of the texts' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: ok(
              Type.Object(
                {
                  locale: Type.String({ description: 'The language of the texts' }),
                  codes: Type.Array(CodeView),
                  categories: Type.Array(CategoryView),
                },
                { title: 'CodeCatalogue' },
              ),
              'Every code and category, with texts in the language chosen (`Content-Language`)',
              ['content-language'],
            ),
            ...errorsOf(400, ...KEYED),
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
          tags: ['codes'],
          security: [],
          response: {
            200: media(
              'application/schema+json',
              'The JSON Schema (draft 2020-12) of mailaudit.report/1',
              Type.Object({}, { additionalProperties: true }),
            ),
          },
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
