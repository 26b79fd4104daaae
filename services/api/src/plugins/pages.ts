/**
 * What the pages (report, overview) need of the HTTP side: `reply.html(body)` sends a page with
 * its own content security policy — our own stylesheet and script only, no inline script, one
 * `<style>` block allowed by a per-response nonce (the tenant's accent colour) — and the stylesheet
 * and script themselves under /assets. The other headers every HTML answer carries (no framing, no
 * referrer, nosniff) come from the one place for them, plugins/security-headers.ts, which keeps a
 * policy a route has set.
 */
import { randomBytes } from 'node:crypto';
import { asset } from '@mailaudit/render';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyReply {
    /** This response's CSP nonce (for the page's one `<style>` block). */
    readonly cspNonce: string;
    /** Sends `body` as an HTML page under the pages' content security policy. */
    html(body: string, status?: number): FastifyReply;
  }
}

export function pagePolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    // The tenant's logo too is ours to serve (routes/branding.ts): no third-party source at all.
    "img-src 'self'",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const nonces = new WeakMap<FastifyReply, string>();

const plugin: FastifyPluginAsync = async (app) => {
  app.decorateReply('cspNonce', {
    getter(this: FastifyReply) {
      let n = nonces.get(this);
      if (!n) {
        n = randomBytes(16).toString('base64');
        nonces.set(this, n);
      }
      return n;
    },
  });
  app.decorateReply('html', function (this: FastifyReply, body: string, status = 200) {
    return this.code(status)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', pagePolicy(this.cspNonce))
      .header('x-robots-tag', 'noindex')
      .send(body);
  });

  app.get(
    '/assets/:name',
    { schema: { hide: true, params: { type: 'object', properties: { name: { type: 'string', maxLength: 40 } } } } },
    async (req, reply) => {
      const a = asset((req.params as { name: string }).name);
      if (!a) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
      return reply.type(a.type).header('cache-control', 'public, max-age=3600').send(a.body);
    },
  );
};

export const pagesPlugin = fp(plugin, { name: 'mailaudit-pages' });
