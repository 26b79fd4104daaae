/**
 * The fastify application: TypeBox schemas on every route, OpenAPI at /openapi.json and docs at
 * /docs, Bearer API keys scoped to one tenant, a rate limit per key kept in Redis, one error shape.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authenticate, type Scope } from '@mailaudit/store';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ApiContext } from './context.js';
import { AppError, errors } from './errors.js';
import { auditRoutes } from './routes/audits.js';
import { domainRoutes } from './routes/domains.js';
import { healthRoutes } from './routes/health.js';
import { nightlyRoutes } from './routes/nightly.js';
import { ErrorBody } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: { keyId: string; tenantId: string; scopes: Scope[] };
  }
  interface FastifyContextConfig {
    /** Scope a route needs; routes without one need no key. */
    scope?: Scope;
  }
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export async function buildApp(ctx: ApiContext): Promise<App> {
  const app = Fastify({
    logger: ctx.config.logLevel === 'silent' ? false : { level: ctx.config.logLevel },
    bodyLimit: ctx.config.bodyLimit,
    // Strict bodies: unknown fields and wrong types are errors, not silently dropped or coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorBody);

  app.setErrorHandler(
    (
      err: Error & { statusCode?: number; validation?: unknown; code?: string; validationContext?: string },
      req,
      reply,
    ) => {
      if (err instanceof AppError) {
        return reply
          .code(err.statusCode)
          .headers(err.headers)
          .send({ error: { code: err.code, message: err.message } });
      }
      if (err.validation) {
        return reply.code(400).send({
          error: { code: 'validation_failed', message: `${err.validationContext ?? 'request'}: ${err.message}` },
        });
      }
      const status = err.statusCode ?? 500;
      if (status === 429) {
        return reply.code(429).send({ error: { code: 'rate_limited', message: err.message } });
      }
      if (status >= 400 && status < 500) {
        const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
        return reply.code(status).send({ error: { code, message: err.message } });
      }
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: { code: 'internal', message: 'internal error; it has been logged' } });
    },
  );
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

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
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Who is asking: a key of the tenant, with its scopes. Routes that need a scope say so in their config.
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const scope = req.routeOptions.config?.scope;
    if (!scope) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S{10,200})$/i.exec(header);
    if (!m) throw errors.unauthorized();
    const key = await authenticate(ctx.sql, m[1] as string);
    if (!key) throw errors.unauthorized('this API key is unknown or revoked');
    req.auth = { keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
    if (!key.scopes.includes(scope)) throw errors.forbidden(scope);
  });

  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: ctx.config.rateLimitPerMinute,
    timeWindow: 60_000,
    redis: ctx.redis,
    nameSpace: `${ctx.config.redisPrefix}:ratelimit:`,
    // Reads keep working while Redis is away; only enqueueing needs it.
    skipOnError: true,
    keyGenerator: (req) => req.auth?.keyId ?? req.ip,
    allowList: (req) => !req.routeOptions.config?.scope,
    errorResponseBuilder: (_req, context) =>
      Object.assign(
        new Error(
          `rate limit of ${context.max} requests a minute reached; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
        {
          statusCode: 429,
        },
      ),
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes(ctx));
  await app.register(auditRoutes(ctx), { prefix: '/v1' });
  await app.register(domainRoutes(ctx), { prefix: '/v1' });
  await app.register(nightlyRoutes(ctx), { prefix: '/v1' });
  return app as unknown as App;
}
