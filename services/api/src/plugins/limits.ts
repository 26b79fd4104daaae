/**
 * Limits: requests per minute per API key, counted in Redis so that every API process shares the
 * count (@fastify/rate-limit). Routes without a key are not counted; while Redis is away the limit
 * is skipped, so that reads keep working. The body size limit is fastify's own (app.ts).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';

const plugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  await app.register(rateLimit, {
    global: true,
    // After authentication (onRequest): the key is known, and the count is per key.
    hook: 'preHandler',
    max: ctx.config.rateLimitPerMinute,
    timeWindow: 60_000,
    redis: ctx.redis,
    nameSpace: `${ctx.config.redisPrefix}:ratelimit:`,
    skipOnError: true,
    keyGenerator: (req) => req.caller?.keyId ?? req.ip,
    allowList: (req) => !req.routeOptions.config?.scope,
    errorResponseBuilder: (_req, context) => errors.rateLimited(context.max, context.ttl),
  });
};

export const limitsPlugin = fp(plugin, { name: 'mailaudit-limits' });
