/**
 * One error handler for the whole API: errors of the registry (errors.ts) answer as they are,
 * fastify's own request errors are turned into the registry's, anything else is a 500 whose details
 * stay in the log. Unknown routes answer the same shape.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, errors, fromFramework } from '../errors.js';

const plugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((err: Error, req, reply) => {
    let e = err instanceof AppError ? err : fromFramework(err);
    if (!e) {
      req.log.error({ err }, 'request failed');
      e = errors.internal();
    }
    return reply
      .code(e.statusCode)
      .headers(e.headers)
      .send({ error: { code: e.code, message: e.message } });
  });
  app.setNotFoundHandler(async (req) => {
    throw errors.noRoute(req.method, req.url.split('?')[0] ?? '/');
  });
};

export const errorsPlugin = fp(plugin, { name: 'mailaudit-errors' });
