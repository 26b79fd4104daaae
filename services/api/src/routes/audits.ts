/**
 * POST /v1/audits (one domain or a batch; Idempotency-Key honoured), GET /v1/audits/:id,
 * GET /v1/audits (filters, cursor pagination).
 */
import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { enqueueAudits } from '@mailaudit/queue';
import {
  type AuditRow,
  createAudits,
  discardQueuedAudits,
  findIdempotent,
  getAudit,
  getReportByAudit,
  listAudits,
  saveIdempotent,
  tenantBacklog,
} from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';
import { reportFor } from '../locale.js';
import { BODY, errorsOf, KEYED, ok, PATH } from '../openapi.js';
import { afterTime, byTime, page, pageSize, timeKey } from '../paging.js';
import {
  AuditListQuery,
  AuditRequest,
  AuditSummary,
  AuditsAccepted,
  AuditWithReport,
  IdParams,
  NextCursor,
  type QueuedAudit,
} from '../schemas.js';
import { domainFrom } from './domain-param.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function auditView(a: AuditRow) {
  return {
    id: a.id,
    domain: a.domain,
    status: a.status,
    source: a.source,
    createdAt: a.createdAt.toISOString(),
    startedAt: iso(a.startedAt),
    finishedAt: iso(a.finishedAt),
    error: a.error,
    reportId: a.reportId,
  };
}

export function auditRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/audits',
      {
        config: { scope: 'audit' },
        schema: {
          summary: 'Queue audits',
          tags: ['audits'],
          description:
            'Queues an audit of one domain (`domain`) or of many (`domains`, up to 1000). Answers 202 with the queued audits; poll GET /v1/audits/{id}. An `Idempotency-Key` header makes a retried request return the first response instead of queueing again (24 hours). 503 when the queue is unreachable: nothing was accepted.',
          body: AuditRequest,
          headers: Type.Object({
            'idempotency-key': Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description:
                  'Any string of yours: a retry with the same key and body gets the first response again (24 hours); with another body, 409',
              }),
            ),
          }),
          response: {
            202: ok(
              AuditsAccepted,
              'Queued: the audit (with `Location`) or, for `domains`, the batch. A replay of an Idempotency-Key says so in `idempotent-replayed`',
              ['location', 'idempotent-replayed'],
            ),
            ...errorsOf(...BODY, ...KEYED, 409),
          },
        },
      },
      async (req, reply) => {
        const body = req.body;
        const single = 'domain' in body;
        const names = single ? [body.domain] : body.domains;
        const domains = names.map((d, i) => domainFrom(d, single ? '/body/domain' : `/body/domains/${i}`));
        const selectors = body.dkimSelectors ?? [];

        const idemKey = req.headers['idempotency-key'];
        const requestHash = createHash('sha256').update(JSON.stringify({ domains, selectors, single })).digest('hex');
        if (idemKey) {
          const prior = await findIdempotent(ctx.sql, req.tenantId, idemKey);
          if (prior) {
            if (prior.requestHash !== requestHash)
              throw errors.conflict('this Idempotency-Key was used with another request');
            if (!Value.Check(AuditsAccepted, prior.body))
              throw new Error(`the stored response of Idempotency-Key ${idemKey} is not an accepted-audits body`);
            if ('id' in prior.body) reply.header('location', `${ctx.config.publicUrl}/v1/audits/${prior.body.id}`);
            return reply
              .code(prior.status as 202)
              .header('idempotent-replayed', 'true')
              .send(prior.body);
          }
        }

        const view = (a: AuditRow): QueuedAudit => ({
          id: a.id,
          status: 'queued' as const,
          domain: a.domain,
          createdAt: a.createdAt.toISOString(),
        });
        // The tenant's quota of audits queued or running, and the rank its new ones start from
        // (fair scheduling between tenants: packages/queue fairPriority).
        const backlog = await tenantBacklog(ctx.sql, req.tenantId);
        if (backlog + domains.length > ctx.config.tenantMaxQueuedAudits)
          throw errors.quotaExceeded(ctx.config.tenantMaxQueuedAudits, backlog);
        let stored: { rows: AuditRow[]; out: AuditsAccepted };
        try {
          // The rows (and the Idempotency-Key's response) are committed before their jobs are
          // queued, so that a worker never takes a job whose row it cannot see yet.
          stored = await ctx.sql.begin(async (tx) => {
            const rows = await createAudits(
              tx,
              req.tenantId,
              domains.map((domain) => ({ domain, options: selectors.length ? { dkimSelectors: selectors } : {} })),
            );
            const [first] = rows;
            if (!first) throw new Error('no audit was created');
            const out: AuditsAccepted = single ? view(first) : { audits: rows.map(view) };
            if (idemKey) {
              const saved = await saveIdempotent(tx, req.tenantId, idemKey, { requestHash, status: 202, body: out });
              if (!saved) throw errors.conflict('a request with this Idempotency-Key is being processed; retry it');
            }
            return { rows, out };
          });
        } catch (err) {
          if ((err as { code?: string }).code === '23505' && idemKey) {
            throw errors.conflict('a request with this Idempotency-Key is being processed; retry it');
          }
          throw err;
        }
        const ids = stored.rows.map((r) => r.id);
        const queued = await enqueueAudits(ctx.queue, ids, undefined, backlog).then(
          () => true,
          (err: Error) => {
            req.log.warn({ err: err.message }, 'queue unreachable');
            return false;
          },
        );
        if (!queued) {
          // Taken back, so that the 503 means "nothing was accepted". Should the database be gone
          // too, the audits stay accepted: the sweeper queues them once Redis is back.
          const discarded = await discardQueuedAudits(ctx.sql, req.tenantId, ids, idemKey).catch((err: Error) => {
            req.log.warn({ err: err.message }, 'could not take back the audits that were not queued');
            return -1;
          });
          if (discarded >= 0)
            throw errors.unavailable('the audit queue is unreachable; nothing was queued, retry later');
        }
        const response = stored.out;
        if ('id' in response) reply.header('location', `${ctx.config.publicUrl}/v1/audits/${response.id}`);
        return reply.code(202).send(response);
      },
    );

    app.get(
      '/audits/:id',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'An audit, with its report once done',
          tags: ['audits'],
          params: IdParams,
          response: {
            200: ok(AuditWithReport, 'The audit; `report` is set once its status is done'),
            ...errorsOf(400, 404, ...PATH, ...KEYED),
          },
        },
      },
      async (req, reply) => {
        const audit = await getAudit(ctx.sql, req.tenantId, req.params.id);
        if (!audit) throw errors.notFound('audit');
        const report = audit.status === 'done' ? await getReportByAudit(ctx.sql, req.tenantId, audit.id) : undefined;
        return { ...auditView(audit), report: report ? reportFor(req, reply, report.report) : null };
      },
    );

    app.get(
      '/audits',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Audits, newest first',
          tags: ['audits'],
          description:
            'Filtered by domain, status and creation time; pages of `limit` (default 50), continued with `cursor=<nextCursor>`.',
          querystring: AuditListQuery,
          response: {
            200: ok(
              Type.Object({ audits: Type.Array(AuditSummary), nextCursor: NextCursor }, { title: 'AuditList' }),
              'A page of audits',
            ),
            ...errorsOf(400, ...KEYED),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const limit = pageSize(q.limit);
        const filter: Parameters<typeof listAudits>[2] = { limit: limit + 1 };
        if (q.domain) filter.domain = domainFrom(q.domain, '/query/domain');
        if (q.status) filter.status = q.status;
        if (q.since) filter.since = new Date(q.since);
        if (q.until) filter.until = new Date(q.until);
        const after = afterTime(byTime.decode(q.cursor));
        if (after) filter.after = after;
        const { items, nextCursor } = page(await listAudits(ctx.sql, req.tenantId, filter), limit, byTime, timeKey);
        return { audits: items.map(auditView), nextCursor };
      },
    );
  };
}
