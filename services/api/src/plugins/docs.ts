/**
 * The OpenAPI 3.1 document, generated from the routes' TypeBox schemas (/openapi.json), and the
 * browsable docs (/docs). Registered before the routes, so that it sees them all. What the
 * schemas cannot say (responses' descriptions and headers, tags, named components, the webhooks)
 * comes from openapi.ts and webhook-docs.ts.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.js';
import { finishDocument, TAGS } from '../openapi.js';
import { webhooksSection } from '../webhook-docs.js';

const DESCRIPTION = `Mail-domain audits for hosting control panels.

Authenticate with \`Authorization: Bearer <key>\`; every resource belongs to the key's tenant, and another tenant's answers 404. A key has scopes: \`read\`, \`audit\` (queue audits, test addresses), \`admin\` (domains, settings); each operation names the one it needs as the role of its \`security\` requirement (\`{"bearer": ["admin"]}\`).

Every error has the shape \`{"error": {"code", "message", "field"?, "allowed"?}}\` (schema Error): \`code\` is stable, \`message\` is for people; a request that fails validation names the field as a JSON pointer (\`/body/domains/3/domain\`) and, for a choice, the values allowed. An unexpected failure answers 500 in the same shape, and so do the refusals that come before any operation: a request line and headers over 16 KiB (a URL that long) 431 \`headers_too_large\`, a request not received in time 408 \`request_timeout\`, a message that is not HTTP 400 \`bad_request\`.

Requests with a key are limited per tenant and minute (\`x-ratelimit-*\` headers; 429 with \`Retry-After\` past the limit); failed authentications per client address. Lists are newest first (or as sorted) in pages of \`limit\` (1 to 500, default 50), continued with \`cursor=<nextCursor>\` until \`nextCursor\` is null.

The report is described in docs/report.md of the repository, its JSON Schema at GET /v1/schemas/report.json, the finding codes in docs/codes.md and at GET /v1/codes. Webhooks follow Standard Webhooks: see the \`webhooks\` section.`;

const plugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'mailaudit API', version: '1.0.0', description: DESCRIPTION },
      servers: [{ url: ctx.config.publicUrl }],
      tags: [...TAGS],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key of the tenant (`npx mailaudit key create`), with the scopes the operation needs',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    // OpenAPI 3.1 schemas are JSON Schema 2020-12: `const` stays `const`.
    convertConstToEnum: false,
    // The scope a route needs (its `config.scope`), as the role of its security requirement: OpenAPI
    // 3.1 lets any scheme list the roles an operation needs.
    transform: ({ schema, url, route }) => {
      const scope = route.config?.scope;
      return { schema: scope ? { ...schema, security: [{ bearer: [scope] }] } : schema, url };
    },
    transformObject: (documentObject) => {
      const { openapiObject } = documentObject as { openapiObject: Record<string, unknown> };
      return finishDocument({ ...openapiObject, webhooks: webhooksSection() }) as never;
    },
  });
  // Its own Content-Security-Policy (scripts from /docs only); plugins/security-headers.ts adds the rest.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

export const docsPlugin = fp(plugin, { name: 'mailaudit-docs' });
