/**
 * Audit metrics shared by every worker process through Redis (one hash per prefix), read by the
 * API's /metrics: completed and failed audits, audit durations as histogram buckets, DNS queries,
 * probe outcomes by state.
 */
import type { Redis } from 'ioredis';

export const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60] as const;

const hashKey = (prefix: string) => `${prefix}:metrics`;

export interface AuditOutcome {
  status: 'done' | 'failed';
  durationMs: number;
  dnsQueries: number;
  /** Probe results by state (open, closed, timeout, guarded, …). */
  probes: Record<string, number>;
}

export async function recordAuditOutcome(redis: Redis, prefix: string, o: AuditOutcome): Promise<void> {
  const m = redis.multi();
  const key = hashKey(prefix);
  m.hincrby(key, `audits_finished_total|${o.status}`, 1);
  if (o.status === 'done') {
    const seconds = o.durationMs / 1000;
    for (const b of DURATION_BUCKETS) if (seconds <= b) m.hincrby(key, `audit_duration_bucket|${b}`, 1);
    m.hincrby(key, 'audit_duration_bucket|+Inf', 1);
    m.hincrbyfloat(key, 'audit_duration_sum', seconds);
    m.hincrby(key, 'audit_duration_count', 1);
  }
  if (o.dnsQueries > 0) m.hincrby(key, 'dns_queries_total', o.dnsQueries);
  for (const [state, n] of Object.entries(o.probes)) if (n > 0) m.hincrby(key, `probes_total|${state}`, n);
  await m.exec();
}

export async function readAuditMetrics(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const raw = await redis.hgetall(hashKey(prefix));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}
