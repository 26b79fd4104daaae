/**
 * The access log, one line per answered request, with the secrets of URLs taken out: a report
 * link's `t` token (GET /r/:id?t=…) authorizes a report by itself, so it must not sit in logs that
 * more people read than the report's owner. Replaces fastify's own request logging
 * (`disableRequestLogging` of the `logController` in app.ts), which writes the URL as it came.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** Query parameters whose values are never logged. */
const SECRET_PARAMS = new Set(['t', 'token', 'key', 'secret', 'signature', 'sig']);

/** `url` with the values of its secret query parameters replaced by `[redacted]`. */
export function redactUrl(raw: string): string {
  // An unsubscribe link's token is its path (/u/<token>).
  const url = raw.replace(/^\/u\/[^/?#]+/, '/u/[redacted]');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {}
      return SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

const plugin: FastifyPluginAsync = async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        req: { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip },
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
      },
      'request completed',
    );
  });
};

export const accessLogPlugin = fp(plugin, { name: 'mailaudit-access-log' });
