/**
 * GET /metrics: Prometheus text. Needs no key.
 */
import { AUDIT_QUEUE, DURATION_BUCKETS, readAuditMetrics } from '@mailaudit/queue';
import { auditCounts } from '@mailaudit/store';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../context.js';
import { within } from '../within.js';

export function metricsRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
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
