/**
 * Benchmarks, against the lab:
 * 1. the full audit (probes on) of the all-good domain, ten times without any probe cache;
 * 2. DNS-only audits of the lab's bulk domains (most on four shared mail hosts), through the lab's
 *    validating resolver, in one process with one Resolver, as a nightly run would do;
 * 3. full audits of the same bulk domains, probes on, sharing the probe cache as a worker does.
 *   npm run bench [-- --domains N --concurrency C]
 */
import { auditDomain, ProbeCache, Resolver, TrustStore } from '@mailaudit/engine';
import { bulkDomainName, DOMAIN_BLOCKLIST, ensureLab, IP_BLOCKLIST } from '@mailaudit/lab';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const domains = arg('domains', 1000);
const concurrency = arg('concurrency', 64);
const lab = await ensureLab({ bulk: domains });
const names = Array.from({ length: domains }, (_, i) => bulkDomainName(i + 1));

const trust = new TrustStore(lab.caFile);

async function fullAuditOfGood(): Promise<void> {
  const times: number[] = [];
  let grade = '';
  for (let i = 0; i < 10; i++) {
    const resolver = new Resolver({ servers: [lab.resolver] });
    const r = await auditDomain(
      'good.test',
      { allowPrivateTargets: true, ipBlocklists: [IP_BLOCKLIST], domainBlocklists: [DOMAIN_BLOCKLIST] },
      { dns: resolver, now: () => new Date(), trust, probeCache: null },
    );
    resolver.close();
    times.push(r.durationMs);
    grade = `${r.grade} ${r.score}`;
  }
  times.sort((a, b) => a - b);
  console.log(
    `full audit of good.test (probes on: SMTP 25/465/587, IMAP 143/993, POP3 110/995, TLS 1.0/1.1 tries, DANE, MTA-STS fetch): ` +
      `min ${times[0]} ms, median ${times[5]} ms, max ${times[9]} ms over 10 runs; grade ${grade}`,
  );
}

async function pass(label: string, probes = false): Promise<void> {
  const resolver = new Resolver({ servers: [lab.resolver] });
  const probeCache = new ProbeCache();
  const latencies: number[] = [];
  let next = 0;
  let findings = 0;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= names.length) return;
        const s = performance.now();
        const r = await auditDomain(
          names[i] as string,
          {
            probes,
            allowPrivateTargets: true,
            dkimSelectors: ['default'],
            ipBlocklists: [IP_BLOCKLIST],
            domainBlocklists: [DOMAIN_BLOCKLIST],
          },
          { dns: resolver, now: () => new Date(), trust, probeCache },
        );
        findings += r.findings.length;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  resolver.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number).toFixed(1);
  console.log(
    `${label}: ${domains} domains in ${seconds.toFixed(2)} s = ${(domains / seconds).toFixed(0)} domains/s, ` +
      `${resolver.stats.queries} DNS queries (${(resolver.stats.queries / seconds).toFixed(0)}/s, ${resolver.stats.timeouts} timeouts), ` +
      `latency p50 ${pct(0.5)} ms p95 ${pct(0.95)} ms p99 ${pct(0.99)} ms, ${findings} findings, ` +
      `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (+${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)})`,
  );
}

await fullAuditOfGood();
console.log(`bulk audits: concurrency ${concurrency}, resolver ${lab.resolver} (Unbound, cache up to 10 s)`);
await pass('DNS only, cold resolver cache');
await pass('DNS only, warm resolver cache');
await pass('full, probes on (shared mail hosts probed once each)', true);
