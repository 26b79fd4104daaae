/**
 * Limits: requests per minute per tenant (all its keys together), counted in Redis so that every
 * API process shares the count (@fastify/rate-limit), right after authentication, so that requests
 * refused later (400, 404, 409) count too. Routes without a key are not counted; while Redis is away
 * the limit is skipped, so that reads keep working. Failed authentications are limited per client
 * address by the auth plugin, queued audits per tenant by POST /v1/audits; the body size limit is
 * fastify's own (app.ts).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';

const plugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  await app.register(rateLimit, {
    global: true,
    // After authentication (an onRequest hook registered before this one): the tenant is known.
    hook: 'onRequest',
    max: ctx.config.rateLimitPerMinute,
    timeWindow: 60_000,
    redis: ctx.redis,
    nameSpace: `${ctx.config.redisPrefix}:ratelimit:`,
    skipOnError: true,
    keyGenerator: (req) => req.caller?.tenantId ?? req.ip,
    allowList: (req) => !req.routeOptions.config?.scope,
    errorResponseBuilder: (_req, context) => errors.rateLimited(context.max, context.ttl),
  });
};

export const limitsPlugin = fp(plugin, { name: 'mailaudit-limits' });
