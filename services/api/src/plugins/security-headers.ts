/**
 * Security headers, in one place for every HTML page the API serves (the report pages, the API
 * docs, and whatever page comes next): an HTML answer gets a Content-Security-Policy that allows
 * no script and no outside resource (unless its route set a policy of its own, as the API docs
 * do), no framing, no referrer (a report link's token must not leak through a Referer) and no
 * MIME sniffing. Every answer, HTML or not, gets `nosniff`.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** The policy of a self-contained page: inline styles and data: images, nothing else. */
export const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers every HTML answer carries (the CSP only when its route set none). */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

const plugin: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = String(reply.getHeader('content-type') ?? '');
    if (/^text\/html\b/i.test(type)) {
      reply.headers(HTML_SECURITY_HEADERS);
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', HTML_CSP);
    }
    return payload;
  });
};

export const securityHeadersPlugin = fp(plugin, { name: 'mailaudit-security-headers' });
