/**
 * Benchmark of the overview: a tenant with N registered domains (default 10,000), each with a
 * stored report as the worker stores it (report, finding rows, the summary kept in step), then
 * GET /v1/domains through the whole fastify app (auth, rate limit, validation, serialization)
 * with filters and sorts, paged to the end with the cursor. Real Postgres and Redis, a schema of
 * its own, dropped at the end.
 *   npm run bench:overview [-- --domains N --limit L]
 */
import { loadavg } from 'node:os';
import { CODES, type Finding, GRADES, type Report, SCORING_VERSION } from '@mailaudit/engine';
import { ensureLab } from '@mailaudit/lab';
import { completeAudit, createAudits, upsertDomains } from '@mailaudit/store';
import { createTestService } from '../service/setup.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('domains', 10_000);
const LIMIT = arg('limit', 100);
const lab = await ensureLab();
const svc = await createTestService(lab);

// A deterministic spread of findings: each domain gets 0 to 5 codes of the audit's (not message.*).
const auditCodes = Object.entries(CODES).filter(([code]) => !code.startsWith('message.'));
let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

function report(domain: string): Report {
  const findings: Finding[] = [];
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const [code, info] = auditCodes[Math.floor(rand() * auditCodes.length)] as [string, (typeof CODES)['mx.null']];
    findings.push({
      code,
      severity: info.severity,
      category: info.category,
      subject: domain,
      message: code,
      params: {},
    } as Finding);
  }
  const score = Math.max(0, 100 - findings.reduce((s, f) => s + (f.severity === 'critical' ? 30 : 5), 0));
  const grade = GRADES[score >= 95 ? 0 : score >= 85 ? 1 : score >= 70 ? 2 : score >= 55 ? 3 : score >= 40 ? 4 : 5];
  return {
    schema: 'mailaudit.report/1',
    domain,
    startedAt: new Date().toISOString(),
    durationMs: 300,
    score,
    grade,
    scoringVersion: SCORING_VERSION,
    categories: [],
    findings,
    evidence: { note: 'x'.repeat(2000) },
    outcome: rand() < 0.1 ? 'partial' : 'complete',
  } as Report;
}

try {
  const tenant = await svc.tenant('bench');
  const key = await tenant.key(['read']);
  const names = Array.from({ length: N }, (_, i) => `d${String(i).padStart(6, '0')}.example`);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const chunk = names.slice(i, i + 1000);
    await svc.sql.begin(async (tx) => {
      await upsertDomains(tx, tenant.id, chunk, (domain) => ({
        domain,
        nightly: true,
        dkimSelectors: [],
        extraHosts: [],
        recipients: [],
      }));
      const audits = await createAudits(
        tx,
        tenant.id,
        chunk.map((domain) => ({ domain, options: {} })),
      );
      for (const a of audits)
        await completeAudit(tx, { id: a.id, tenantId: tenant.id, domain: a.domain }, report(a.domain));
    });
  }
  await svc.sql`analyze`;
  console.log(`${N} domains registered and reported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const queries = [
    '',
    'grade=F',
    'severity=critical&sort=-score',
    'code=dmarc.policy.none',
    'category=spf&outcome=complete&sort=severity',
    'worstSeverity=warning&sort=-auditedAt',
  ];
  // The process's first request compiles the route's validator and serializer: timed apart.
  const w = performance.now();
  await svc.app.inject({ method: 'GET', url: '/v1/domains?limit=1', headers: { authorization: `Bearer ${key}` } });
  console.log(
    `first request of the process: ${(performance.now() - w).toFixed(1)} ms; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`GET /v1/domains, limit ${LIMIT}, every page of each query (app.inject: auth, rate limit, JSON)`);
  for (const q of queries) {
    const times: number[] = [];
    let rows = 0;
    let cursor: string | null = null;
    do {
      const url: string = `/v1/domains?limit=${LIMIT}${q ? `&${q}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
      const t = performance.now();
      const res = await svc.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
      times.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      const body = res.json() as { domains: unknown[]; nextCursor: string | null };
      rows += body.domains.length;
      cursor = body.nextCursor;
    } while (cursor);
    times.sort((a, b) => a - b);
    const at = (p: number) => (times[Math.min(times.length - 1, Math.floor(p * times.length))] as number).toFixed(1);
    console.log(
      `  ${(q || '(no filter)').padEnd(46)} ${String(rows).padStart(6)} rows, ${String(times.length).padStart(4)} pages: min ${(times[0] as number).toFixed(1)} ms, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`,
    );
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await svc.close();
}
