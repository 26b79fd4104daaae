/**
 * One error handler for the whole API: errors of the registry (errors.ts) answer as they are,
 * fastify's own request errors are turned into the registry's, anything else is a 500 whose details
 * stay in the log. Unknown routes answer the same shape.
 */
import { isRedisUnavailable } from '@mailaudit/queue';
import { isDatabaseUnavailable, isDataException } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, errors, fromFramework } from '../errors.js';
import { StoreTimeout } from '../within.js';

/**
 * The registry's error for a store that cannot answer (503 with Retry-After: Postgres or Redis down,
 * restarting or too slow) or for a value the database refuses though it passed validation (400);
 * undefined for anything else.
 */
function fromStore(err: Error): AppError | undefined {
  if (err instanceof StoreTimeout) return errors.unavailable('a data store did not answer in time; retry later');
  if (isDatabaseUnavailable(err)) return errors.unavailable('the database is unavailable; retry later');
  if (isRedisUnavailable(err)) return errors.unavailable('the queue store is unavailable; retry later');
  // Postgres's own words stay in the log (the handler logs them): they tell the database's internals.
  if (isDataException(err))
    return errors.badRequest(
      'a value of the request cannot be used: a NUL character, or a number or date out of range',
    );
  return undefined;
}

const plugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((err: Error, req, reply) => {
    let e = err instanceof AppError ? err : (fromFramework(err) ?? fromStore(err));
    if (e && (e.statusCode >= 500 || isDataException(err)))
      req.log.warn({ err: err.message, code: e.code }, 'request refused');
    if (!e) {
      req.log.error({ err }, 'request failed');
      e = errors.internal();
    }
    return reply
      .code(e.statusCode)
      .headers(e.headers)
      .send({ error: { code: e.code, message: e.message, ...e.details } });
  });
  app.setNotFoundHandler(async (req) => {
    throw errors.noRoute(req.method, req.url.split('?')[0] ?? '/');
  });
};

export const errorsPlugin = fp(plugin, { name: 'mailaudit-errors' });
