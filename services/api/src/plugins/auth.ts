/**
 * Who is asking: routes that need a key say which scope in their config (`config: { scope }`);
 * for them a Bearer key of a tenant is required and checked before anything else runs, and the
 * request carries the caller (`req.caller`) and its tenant (`req.tenantId`), typed. Routes without a
 * scope need no key.
 */
import { authenticate, type Scope } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';

/** The API key a request came with, and what it may do. */
export interface Caller {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a route needs; routes without one need no key. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** The authenticated caller; null on routes that need no key. */
    caller: Caller | null;
    /** The caller's tenant. Only routes with a scope have one: reading it elsewhere throws. */
    readonly tenantId: string;
  }
}

const BEARER = /^Bearer\s+(\S{10,200})$/i;

const plugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.decorateRequest('caller', null);
  app.decorateRequest('tenantId', {
    getter() {
      if (!this.caller) throw new Error(`${this.method} ${this.routeOptions.url} reads the tenant but has no scope`);
      return this.caller.tenantId;
    },
  });
  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config?.scope;
    if (!scope) return;
    const m = BEARER.exec(req.headers.authorization ?? '');
    if (!m?.[1]) throw errors.unauthorized();
    const key = await authenticate(ctx.sql, m[1]);
    if (!key) throw errors.unauthorized('this API key is unknown or revoked');
    req.caller = { keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
    if (!key.scopes.includes(scope)) throw errors.forbidden(scope);
  });
};

export const authPlugin = fp(plugin, { name: 'mailaudit-auth' });
