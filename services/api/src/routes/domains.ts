/**
 * Domains registered for nightly audits: PUT/GET/DELETE /v1/domains/:domain, GET /v1/domains.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type DomainRow, deleteDomain, getDomain, listDomains, upsertDomain } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { byName, page, pageSize } from '../paging.js';
import { DomainBody, DomainParams, DomainView, errorResponses, PageQuery } from '../schemas.js';
import { domainFrom } from './domain-param.js';

function domainView(d: DomainRow) {
  return {
    domain: d.domain,
    nightly: d.nightly,
    recipients: d.recipients,
    dkimSelectors: d.dkimSelectors,
    dkimSelectorsFound: d.dkimSelectorsFound,
    extraHosts: d.extraHosts,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export function domainRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.put(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Register a domain for nightly audits (or update it)',
          params: DomainParams,
          body: DomainBody,
          response: { 200: DomainView, 201: DomainView, ...errorResponses },
        },
      },
      async (req, reply) => {
        const domain = domainFrom(req.params.domain);
        const b = req.body;
        const existing = await getDomain(ctx.sql, req.tenantId, domain);
        const { row, created } = await upsertDomain(ctx.sql, req.tenantId, {
          domain,
          nightly: b.nightly ?? existing?.nightly ?? true,
          recipients: b.recipients ?? existing?.recipients ?? [],
          dkimSelectors: b.dkimSelectors ?? existing?.dkimSelectors ?? [],
          extraHosts: (b.extraHosts ?? existing?.extraHosts ?? []).map((h, i) => domainFrom(h, `extraHosts[${i}]`)),
        });
        return reply.code(created ? 201 : 200).send(domainView(row));
      },
    );

    app.get(
      '/domains/:domain',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'A registered domain',
          params: DomainParams,
          response: { 200: DomainView, ...errorResponses },
        },
      },
      async (req) => {
        const row = await getDomain(ctx.sql, req.tenantId, domainFrom(req.params.domain));
        if (!row) throw errors.notFound('domain');
        return domainView(row);
      },
    );

    app.delete(
      '/domains/:domain',
      {
        config: { scope: 'admin' },
        schema: {
          summary: 'Stop watching a domain (its reports stay)',
          params: DomainParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        if (!(await deleteDomain(ctx.sql, req.tenantId, domainFrom(req.params.domain))))
          throw errors.notFound('domain');
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/domains',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Registered domains, by name',
          querystring: PageQuery,
          response: {
            200: Type.Object({ domains: Type.Array(DomainView), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const limit = pageSize(req.query.limit);
        const [after] = byName.decode(req.query.cursor) ?? [];
        const rows = await listDomains(ctx.sql, req.tenantId, limit + 1, after);
        const { items, nextCursor } = page(rows, limit, byName, (r) => [r.domain]);
        return { domains: items.map(domainView), nextCursor };
      },
    );
  };
}
