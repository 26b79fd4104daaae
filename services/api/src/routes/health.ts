/**
 * /healthz (the process answers), /readyz (Postgres and Redis reachable), /metrics (Prometheus).
 * None needs a key.
 */
import { AUDIT_QUEUE, DURATION_BUCKETS, readAuditMetrics } from '@mailaudit/queue';
import { renderHtml, verifyReportLink } from '@mailaudit/render';
import { auditCounts, getReportById, ping } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { ApiContext } from '../context.js';
import { errors } from '../errors.js';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          summary: 'The process is up',
          security: [],
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          summary: 'Postgres and Redis are reachable',
          security: [],
          response: {
            200: Type.Object({ status: Type.String(), postgres: Type.String(), redis: Type.String() }),
            503: Type.Object({ status: Type.String(), postgres: Type.String(), redis: Type.String() }),
          },
        },
      },
      async (_req, reply) => {
        const [pg, redis] = await Promise.all([
          within(2000, ping(ctx.sql)).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
          within(2000, ctx.redis.ping()).then(
            () => 'ok',
            (e: Error) => `down: ${e.message}`,
          ),
        ]);
        const ok = pg === 'ok' && redis === 'ok';
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', postgres: pg, redis });
      },
    );

    app.get(
      '/r/:id',
      {
        schema: {
          summary: 'A report as an HTML page, for links in emails',
          description:
            'Needs no key: the `t` token, an HMAC of the report id under REPORT_LINK_SECRET, authorizes this one report.',
          security: [],
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          querystring: Type.Object({ t: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        },
      },
      async (req, reply) => {
        const { id } = req.params as { id: string };
        const { t } = req.query as { t: string };
        const secret = ctx.config.reportLinkSecret;
        const row = secret && verifyReportLink(secret, id, t) ? await getReportById(ctx.sql, id) : undefined;
        if (!row) throw errors.notFound('report');
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'private, max-age=300')
          .header('x-robots-tag', 'noindex')
          .send(renderHtml(row.report));
      },
    );

    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics', security: [], hide: false } },
      async (_req, reply) => {
        const lines: string[] = [];
        const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
          lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
          for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
        };
        const [counts, jobs, shared] = await Promise.all([
          within(2000, auditCounts(ctx.sql)).catch(() => undefined),
          within(2000, ctx.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized')).catch(
            () => undefined,
          ),
          within(2000, readAuditMetrics(ctx.redis, ctx.config.redisPrefix)).catch(() => ({}) as Record<string, number>),
        ]);
        if (counts) {
          metric(
            'mailaudit_audits',
            'gauge',
            'Audits stored, by status',
            Object.entries(counts).map(([s, n]) => [`{status="${s}"}`, n]),
          );
        }
        if (jobs) {
          metric(
            'mailaudit_queue_depth',
            'gauge',
            `Jobs in the ${AUDIT_QUEUE} queue, by state`,
            Object.entries(jobs).map(([s, n]) => [`{state="${s}"}`, n]),
          );
        }
        const get = (k: string) => shared[k] ?? 0;
        metric('mailaudit_audits_finished_total', 'counter', 'Audits finished by workers, by outcome', [
          ['{status="done"}', get('audits_finished_total|done')],
          ['{status="failed"}', get('audits_finished_total|failed')],
        ]);
        metric('mailaudit_audit_duration_seconds', 'histogram', 'Duration of finished audits', [
          ...DURATION_BUCKETS.map((b): [string, number] => [`_bucket{le="${b}"}`, get(`audit_duration_bucket|${b}`)]),
          ['_bucket{le="+Inf"}', get('audit_duration_bucket|+Inf')],
          ['_sum', get('audit_duration_sum')],
          ['_count', get('audit_duration_count')],
        ]);
        metric('mailaudit_dns_queries_total', 'counter', 'DNS queries made by audits', [
          ['', get('dns_queries_total')],
        ]);
        metric(
          'mailaudit_probes_total',
          'counter',
          'Mail-host probes, by outcome',
          Object.keys(shared)
            .filter((k) => k.startsWith('probes_total|'))
            .map((k): [string, number] => [`{outcome="${k.split('|')[1]}"}`, get(k)]),
        );
        return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
      },
    );
  };
}
