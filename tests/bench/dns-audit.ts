/**
 * Benchmark: DNS-only audits of the lab's bulk domains (most on four shared mail hosts), through
 * the lab's validating resolver, in one process with one Resolver, as a nightly run would do.
 *   npm run bench [-- --domains N --concurrency C]
 * Prints domains per second, DNS queries, latency percentiles and memory.
 */
import { auditDomain, Resolver } from '@mailaudit/engine';
import { bulkDomainName, DOMAIN_BLOCKLIST, ensureLab, IP_BLOCKLIST } from '@mailaudit/lab';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const domains = arg('domains', 1000);
const concurrency = arg('concurrency', 64);
const lab = await ensureLab({ bulk: domains });
const names = Array.from({ length: domains }, (_, i) => bulkDomainName(i + 1));

async function pass(label: string): Promise<void> {
  const resolver = new Resolver({ servers: [lab.resolver] });
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
            probes: false,
            allowPrivateTargets: true,
            dkimSelectors: ['default'],
            ipBlocklists: [IP_BLOCKLIST],
            domainBlocklists: [DOMAIN_BLOCKLIST],
          },
          { dns: resolver, now: () => new Date() },
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

console.log(
  `DNS-only audit benchmark: concurrency ${concurrency}, resolver ${lab.resolver} (Unbound, cache up to 10 s)`,
);
await pass('cold cache');
await pass('warm cache');
