/**
 * The OpenAPI 3 document, generated from the routes' TypeBox schemas (/openapi.json), and the
 * browsable docs (/docs). Registered before the routes, so that it sees them all.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.js';

const plugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'mailaudit API',
        version: '1.0.0',
        description:
          'Mail-domain audits for hosting control panels. Authenticate with `Authorization: Bearer <key>`; every resource belongs to the key\'s tenant. Errors have the shape {"error": {"code", "message"}}.',
      },
      servers: [{ url: ctx.config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Its own Content-Security-Policy (scripts from /docs only); plugins/security-headers.ts adds the rest.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

export const docsPlugin = fp(plugin, { name: 'mailaudit-docs' });
