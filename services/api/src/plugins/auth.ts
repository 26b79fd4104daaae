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
  // Failed authentications per client address, counted in Redis for a minute: past the limit the
  // address is refused before any key is looked up, so a flood of invalid keys costs no database
  // work. While Redis is away the count is skipped (as the request limit is).
  const max = ctx.config.authFailuresPerMinute;
  const failures = (ip: string) => `${ctx.config.redisPrefix}:authfail:${ip}`;
  const failed = async (ip: string) => {
    const n = await ctx.redis.incr(failures(ip)).catch(() => 0);
    if (n === 1) await ctx.redis.pexpire(failures(ip), 60_000).catch(() => {});
  };
  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config?.scope;
    if (!scope) return;
    const seen = Number((await ctx.redis.get(failures(req.ip)).catch(() => null)) ?? 0);
    if (seen >= max) {
      const ttl = await ctx.redis.pttl(failures(req.ip)).catch(() => 60_000);
      throw errors.tooManyAuthFailures(Math.max(1, Math.ceil((ttl > 0 ? ttl : 60_000) / 1000)));
    }
    const m = BEARER.exec(req.headers.authorization ?? '');
    if (!m?.[1]) {
      await failed(req.ip);
      throw errors.unauthorized();
    }
    const key = await authenticate(ctx.sql, m[1]);
    if (!key) {
      await failed(req.ip);
      throw errors.unauthorized('this API key is unknown or revoked');
    }
    req.caller = { keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
    if (!key.scopes.includes(scope)) throw errors.forbidden(scope);
  });
};

export const authPlugin = fp(plugin, { name: 'mailaudit-auth' });
