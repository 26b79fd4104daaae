/**
 * `npm run bench`: every throughput figure of docs/benchmarks.md in one run, against the lab.
 *   1. the full audit (probes on) of the all-good domain, ten times, nothing cached;
 *   2. DNS only, on the main thread alone, over the bulk domains: the engine's cost per domain, and
 *      the queries it sends, recorded as the query mix for dnsperf;
 *   3. dnsperf against the same resolver with that query mix, DO bit set: the resolver's ceiling,
 *      once with its cache cold (every question recursed and validated, as in a night) and once
 *      warm (answered from its cache);
 *   4. DNS only on the audit threads (one per core), on N bulk domains with the resolver's cache
 *      cold, then warm (on a new pool, whose threads compile the engine during the pass, and on a
 *      pool run in on other bulk domains first, as a long-running worker's threads are), and on
 *      the big count (cold), with the engine's query rate as a share of dnsperf's in the same state;
 *      all of it once with the queries over UDP, once pipelined over TCP (DNS_TRANSPORT=tcp).
 *   The engine runs as built (dist/, what the command line and the workers run), not from the
 *   TypeScript sources through tsx.
 *   Every DNS-only pass also gives the CPU per domain of the engine, of the lab's Unbound and of
 *   its Knot, and what the machine's cores allow at that cost (cores x 1 s / the sum).
 *   5. probes on, the bulk domains (a hoster's mix: most domains on four mail hosts), on one pool
 *      of threads (each thread its own probe cache), then on two pools sharing probe results and
 *      the per-address limit through Redis, as two worker processes do;
 *   The probe passes and the night ask DNS over --night-transport (tcp unless told).
 *   6. a night end to end: `mailaudit serve` and one, then two `mailaudit worker` processes on
 *      Postgres and Redis, the domains registered through the API, the night started through it,
 *      until its last audit is stored.
 *   npm run bench [-- --domains 2000 --big 10000 --nightly 10000 --concurrency 256 --threads T --run-in 500
 *                    --transports udp,tcp --night-transport tcp --skip-nightly --only-nightly --only-probes --no-service-flags]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuditOptions,
  AuditPool,
  auditDomain,
  DnsCache,
  type DnsClient,
  type DnsTransport,
  type Report,
  Resolver,
  type RRType,
  TrustStore,
} from '@mailaudit/engine';
import { bulkDomainName, DOMAIN_BLOCKLIST, ensureLab, IP_BLOCKLIST, RESOLVER_CACHE_MAX_TTL } from '@mailaudit/lab';
import { PROBE_SHARE_MODULE } from '@mailaudit/queue';
import { createApiKey, createSql, createTenant, migrate } from '@mailaudit/store';
import { Redis } from 'ioredis';

/** The value given after `--name`, if the option is there. */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
function arg(name: string, fallback: number): number {
  const value = option(name);
  return value === undefined ? fallback : Number(value);
}
function transportOption(name: string, value: string): DnsTransport {
  if (value !== 'udp' && value !== 'tcp') throw new Error(`--${name}: ${value} is neither udp nor tcp`);
  return value;
}
const DOMAINS = arg('domains', 2000);
const BIG = arg('big', 10_000);
const NIGHTLY = arg('nightly', 10_000);
const CONCURRENCY = arg('concurrency', 256);
const THREADS = arg('threads', availableParallelism());
/**
 * Bulk domains (others than the measured ones) a pool audits, outside the clock, before its "run
 * in" warm pass: its threads have then compiled and optimised the engine, as a long-running
 * worker's have.
 */
const RUN_IN = arg('run-in', 500);
/** Audit jobs at once per worker process in the night. */
const WORKER_CONCURRENCY = arg('worker-concurrency', 64);
const SKIP_NIGHTLY = process.argv.includes('--skip-nightly');
/**
 * The DNS transport of the probe passes and of the night's workers (DNS_TRANSPORT): tcp, as
 * docs/operations.md advises for a night against the provider's own resolver.
 */
const NIGHT_TRANSPORT = transportOption('night-transport', option('night-transport') ?? 'tcp');
/** The DNS transports the DNS-only passes on the threads run with (ResolverOptions `transport`, DNS_TRANSPORT). */
const TRANSPORTS = (option('transports') ?? 'udp,tcp').split(',').map((t) => transportOption('transports', t));
/** Only the night (and the full audit of good.test): to look at the service path alone. */
const ONLY_NIGHTLY = process.argv.includes('--only-nightly');
/** Only the probes (the full audit of good.test and the probe passes, per process and shared through Redis). */
const ONLY_PROBES = process.argv.includes('--only-probes');
/** The DNS-only passes (2 to 4). */
const DNS_PASSES = !ONLY_NIGHTLY && !ONLY_PROBES;
/** `--cpu-prof DIR`: the night's API and worker processes write V8 CPU profiles there. */
const CPU_PROF = option('cpu-prof');
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = new URL('../..', import.meta.url).pathname;

const lab = await ensureLab({
  bulk: ONLY_PROBES ? DOMAINS : Math.max(DOMAINS + RUN_IN, BIG, SKIP_NIGHTLY ? 0 : NIGHTLY),
});
const names = (n: number) => Array.from({ length: n }, (_, i) => bulkDomainName(i + 1));
const dnsOnly: AuditOptions = {
  probes: false,
  allowPrivateTargets: true,
  dkimSelectors: ['default'],
  ipBlocklists: [IP_BLOCKLIST],
  domainBlocklists: [DOMAIN_BLOCKLIST],
};
const withProbes: AuditOptions = { ...dnsOnly, probes: true };

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
const line = (label: string, text: string) => console.log(`${label.padEnd(44)} ${text}`);

/**
 * The machine's CPU time so far from /proc/stat (ticks of all cores): `steal` is what the hypervisor
 * gave other guests while this one wanted the core. On a shared host it comes and goes (0 to 50% of
 * the time was seen on this machine kind within one hour), and every wall-clock figure of a pass
 * with much of it measured the neighbours: each pass prints its share.
 */
function machineTicks(): { steal: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
}
function stealShare(t0: { steal: number; total: number }): string {
  const t1 = machineTicks();
  const share = t1.total > t0.total ? (100 * (t1.steal - t0.steal)) / (t1.total - t0.total) : 0;
  return `steal ${share.toFixed(0)}%`;
}

/** CPU time (user + system, ms) of the lab's resolver and authoritative server so far. */
const labPids = {
  unbound: lab.state.processes.find((p) => p.name === 'unbound')?.pid,
  knot: lab.state.processes.find((p) => p.name === 'knot')?.pid,
};
function labCpu(): { unbound: number; knot: number; machine: { steal: number; total: number } } {
  const ms = (pid: number | undefined) => {
    if (!pid) return Number.NaN;
    // Fields 14 and 15 of /proc/PID/stat (after the command's closing parenthesis): utime, stime in ticks of 10 ms.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  return { unbound: ms(labPids.unbound), knot: ms(labPids.knot), machine: machineTicks() };
}
/** Since the resolver's cache holds answers at most RESOLVER_CACHE_MAX_TTL s: waits until it is cold again. */
let lastDnsPass = 0;
async function resolverCold(): Promise<void> {
  const wait = lastDnsPass + (RESOLVER_CACHE_MAX_TTL + 1) * 1000 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const CORES = availableParallelism();
/** The CPU per domain of the engine, Unbound and Knot in a pass, and the rate the cores allow at that cost. */
function cpuSplit(engineMs: number, lab0: ReturnType<typeof labCpu>, count: number): string {
  const lab1 = labCpu();
  const unbound = (lab1.unbound - lab0.unbound) / count;
  const knot = (lab1.knot - lab0.knot) / count;
  const sum = engineMs + unbound + knot;
  return (
    `CPU a domain: engine ${engineMs.toFixed(2)} ms + Unbound ${unbound.toFixed(2)} ms + Knot ${knot.toFixed(2)} ms ` +
    `= ${sum.toFixed(2)} ms, so ${CORES} free cores allow ${((CORES * 1000) / sum).toFixed(0)} domains/s; ` +
    stealShare(lab0.machine)
  );
}

console.log(
  `mailaudit bench: ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, Node ${process.version}, resolver ${lab.resolver}; ` +
    `concurrency ${CONCURRENCY}, ${THREADS} audit threads`,
);

// 1. One all-good domain, everything on, nothing cached.
{
  const trust = new TrustStore(lab.caFile);
  const times: number[] = [];
  let grade = '';
  const ticks0 = machineTicks();
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
  line(
    'full audit of good.test, probes on',
    `median ${times[5]} ms, min ${times[0]} ms, max ${times[9]} ms over 10 runs (grade ${grade}); ${stealShare(ticks0)}`,
  );
}

/**
 * Waits until the lab's resolver answers a bulk domain and its mail host: on a loaded machine a
 * burst (dnsperf's above all) can make Unbound time out on a DS query and hold the zone as bogus
 * for a few seconds, which would turn the next pass into SERVFAILs.
 */
async function resolverHealthy(): Promise<void> {
  const resolver = new Resolver({ servers: [lab.resolver], timeoutMs: 1000, attempts: 1 });
  try {
    for (let i = 0; i < 120; i++) {
      const [mx, a] = await Promise.all([
        resolver.query(bulkDomainName(1), 'MX'),
        resolver.query(`bulk1.mailhost.test`, 'A'),
      ]);
      if (mx.status === 'ok' && a.status === 'ok') return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('the lab resolver does not answer the bulk domains');
  } finally {
    resolver.close();
  }
}

/** Runs `audit` over the names, `concurrency` at once; latencies of each. */
async function drive(list: string[], concurrency: number, audit: (name: string) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, list.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= list.length) return;
        const s = performance.now();
        await audit(list[i] as string);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    rate: list.length / seconds,
    cpuMsPerDomain: (cpu.user + cpu.system) / 1000 / list.length,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
  };
}

// 2. The main thread alone, recording what goes on the wire (below the shared cache).
const mixFile = join(tmpdir(), `mailaudit-bench-mix-${process.pid}.txt`);
let queriesPerDomain = 0;
if (DNS_PASSES) {
  const resolver = new Resolver({ servers: [lab.resolver] });
  const wire: string[] = [];
  const recording: DnsClient = {
    query: <T extends RRType>(name: string, type: T, opts?: { cd?: boolean }) => {
      if (!opts?.cd) wire.push(`${name} ${type}`);
      return resolver.query(name, type, opts);
    },
  };
  const dns = new DnsCache(recording);
  await resolverCold();
  const lab0 = labCpu();
  const r = await drive(names(DOMAINS), CONCURRENCY, (n) => auditDomain(n, dnsOnly, { dns, now: () => new Date() }));
  const split = cpuSplit(r.cpuMsPerDomain, lab0, DOMAINS);
  lastDnsPass = performance.now();
  resolver.close();
  writeFileSync(mixFile, `${wire.join('\n')}\n`);
  queriesPerDomain = wire.length / DOMAINS;
  line(
    `DNS only, main thread only, ${DOMAINS} domains, cold`,
    `${r.rate.toFixed(0)} domains/s, ${(wire.length / r.seconds).toFixed(0)} queries/s ` +
      `(${queriesPerDomain.toFixed(1)} a domain on the wire of ${(dns.stats.lookups / DOMAINS).toFixed(1)} asked, ${dns.stats.hits + dns.stats.joined} answers shared), ` +
      `p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms; ${split}`,
  );
}

// 3. dnsperf: the resolver's ceiling for that mix, DO bit set as the engine sends it: first with
// its cache cold (one pass, every question recursed and validated, as the engine's passes find it),
// then warm (three more passes, answered from its cache).
const dnsperfQps: { cold?: number; warm?: number } = {};
if (DNS_PASSES) {
  const [host, port] = lab.resolver.split(':') as [string, string | undefined];
  const perf = (passes: number, label: string): number | undefined => {
    const lab0 = labCpu();
    const run = spawnSync(
      'dnsperf',
      ['-s', host, '-p', port ?? '53', '-d', mixFile, '-D', '-n', String(passes), '-c', '4', '-q', '256', '-t', '5'],
      { encoding: 'utf8' },
    );
    if (run.error) {
      line('dnsperf', `not run (${run.error.message}; npm run lab:deps installs it)`);
      return undefined;
    }
    const qps = Number(/Queries per second:\s+([\d.]+)/.exec(run.stdout)?.[1]);
    const sent = Number(/Queries sent:\s+(\d+)/.exec(run.stdout)?.[1]);
    const lost = /Queries lost:\s+(\d+)/.exec(run.stdout)?.[1];
    const lab1 = labCpu();
    const perQuery = (ms: number) => ((1000 * ms) / sent).toFixed(0);
    line(
      label,
      `${qps.toFixed(0)} queries/s (${lost ?? '?'} lost) = ${(qps / queriesPerDomain).toFixed(0)} domains/s at ` +
        `${queriesPerDomain.toFixed(1)} queries a domain; CPU a query: Unbound ${perQuery(lab1.unbound - lab0.unbound)} µs, ` +
        `Knot ${perQuery(lab1.knot - lab0.knot)} µs`,
    );
    return qps;
  };
  await resolverCold();
  dnsperfQps.cold = perf(1, 'dnsperf, same mix, DO bit, cold, 1 pass');
  if (dnsperfQps.cold !== undefined) dnsperfQps.warm = perf(3, 'dnsperf, same mix, DO bit, warm, 3 passes');
  lastDnsPass = performance.now();
}

/**
 * Warm means warm: the resolver holds answers at most RESOLVER_CACHE_MAX_TTL (10) s, and on a loaded
 * machine the cold pass before a warm one can take longer than that, which left the "warm" pass
 * half cold. dnsperf asks the recorded mix once more, outside the clock, right before it.
 */
function primeResolver(): void {
  if (!dnsperfQps.warm) return;
  const [host, port] = lab.resolver.split(':') as [string, string | undefined];
  spawnSync(
    'dnsperf',
    ['-s', host, '-p', port ?? '53', '-d', mixFile, '-D', '-n', '1', '-c', '4', '-q', '256', '-t', '5'],
    {
      stdio: 'ignore',
    },
  );
}

// 4. and 5. On the audit threads.
const newPool = (dnsTransport: DnsTransport = 'udp') =>
  new AuditPool({ servers: [lab.resolver], threads: THREADS, caFile: lab.caFile, dnsTransport });
/**
 * One pass on the threads: on a new pool (closed after), or on `runIn`, a pool that has audited
 * other domains already (left open).
 */
async function threaded(
  label: string,
  count: number,
  options: AuditOptions,
  cache?: 'cold' | 'warm',
  { runIn, transport = 'udp' }: { runIn?: AuditPool; transport?: DnsTransport } = {},
): Promise<void> {
  if (cache === 'cold') await resolverCold();
  await resolverHealthy();
  if (cache === 'warm') {
    primeResolver();
    await resolverHealthy();
  }
  const pool = runIn ?? newPool(transport);
  // The threads loaded and answering before the clock starts; their counters so far.
  const s0 = await pool.stats();
  const failedBefore = { n: 0 };
  const lab0 = labCpu();
  const r = await drive(names(count), CONCURRENCY, async (n) => {
    const report = (await pool.audit(n, options)) as Report;
    if ((report.evidence.dns as { failed?: number } | undefined)?.failed) failedBefore.n++;
  });
  const split = cache ? `; ${cpuSplit(r.cpuMsPerDomain, lab0, count)}` : '';
  lastDnsPass = performance.now();
  const s1 = await pool.stats();
  if (!runIn) await pool.close();
  const s = {
    resolver: {
      queries: s1.resolver.queries - s0.resolver.queries,
      timeouts: s1.resolver.timeouts - s0.resolver.timeouts,
    },
    probes: { probed: s1.probes.probed - s0.probes.probed, reused: s1.probes.reused - s0.probes.reused },
  };
  const qps = s.resolver.queries / r.seconds;
  const ceiling = cache && dnsperfQps[cache];
  const share = ceiling ? `, ${((100 * qps) / ceiling).toFixed(0)}% of dnsperf's ${cache}` : '';
  line(
    cache ? `${label}, ${cache}` : label,
    `${r.rate.toFixed(0)} domains/s, ${qps.toFixed(0)} queries/s${share} ` +
      `(${(s.resolver.queries / count).toFixed(2)} a domain on the wire), ` +
      `CPU ${r.cpuMsPerDomain.toFixed(2)} ms a domain, p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, ` +
      `${s.resolver.timeouts} timeouts, ${failedBefore.n} audits with a failed lookup (should be 0), peak RSS ${mib(peakRss())}` +
      `${options.probes ? `; probes run ${s.probes.probed}, reused in a thread ${s.probes.reused}` : ''}${split}`,
  );
}
if (DNS_PASSES) {
  for (const transport of TRANSPORTS) {
    const over = `over ${transport.toUpperCase()}`;
    // A pool as a long-running worker has it: its threads have audited RUN_IN other bulk domains
    // (compiling and optimising the engine as they went), here, before the cold pass and outside
    // every clock. Its shared answers (the mail hosts, their PTRs and blocklist answers) are kept
    // for their TTL as a worker's are, which the queries a domain on the wire show.
    const runIn = RUN_IN > 0 ? newPool(transport) : undefined;
    if (runIn) {
      await resolverHealthy();
      await drive(
        Array.from({ length: RUN_IN }, (_, i) => bulkDomainName(DOMAINS + 1 + i)),
        CONCURRENCY,
        (n) => runIn.audit(n, dnsOnly),
      );
      lastDnsPass = performance.now();
    }
    await threaded(`DNS only ${over}, ${THREADS} threads, ${DOMAINS} domains`, DOMAINS, dnsOnly, 'cold', { transport });
    // Warm: the same domains again while the resolver still holds their answers, first on a new
    // pool (each thread compiles the engine during the pass), then on the pool run in.
    await threaded(`DNS only ${over}, ${THREADS} threads (new pool), ${DOMAINS} domains`, DOMAINS, dnsOnly, 'warm', {
      transport,
    });
    if (runIn) {
      await threaded(
        `DNS only ${over}, ${THREADS} threads run in on ${RUN_IN} other domains, ${DOMAINS} domains`,
        DOMAINS,
        dnsOnly,
        'warm',
        { runIn, transport },
      );
      await runIn.close();
    }
    if (BIG !== DOMAINS) {
      await threaded(`DNS only ${over}, ${THREADS} threads, ${BIG} domains`, BIG, dnsOnly, 'cold', { transport });
    }
  }
}
if (!ONLY_NIGHTLY) {
  // Cold, as a night finds the resolver: each domain is audited once a night.
  await threaded(
    `probes on, DNS over ${NIGHT_TRANSPORT.toUpperCase()}, ${THREADS} threads, ${DOMAINS} domains`,
    DOMAINS,
    withProbes,
    'cold',
    { transport: NIGHT_TRANSPORT },
  );
  await probesShared(DOMAINS);
}

/**
 * 5b. Probes on, as two worker processes run them: two pools of THREADS / 2 threads (at least one),
 * probe results and the per-address limit shared through Redis (a key prefix of its own, removed
 * afterwards); the domains dealt to both in turn, four by four.
 */
async function probesShared(count: number): Promise<void> {
  await resolverCold();
  await resolverHealthy();
  const prefix = `bench:probes:${randomBytes(4).toString('hex')}`;
  const perPool = Math.max(1, Math.floor(THREADS / 2));
  const pools = [0, 1].map(
    () =>
      new AuditPool({
        servers: [lab.resolver],
        threads: perPool,
        caFile: lab.caFile,
        dnsTransport: NIGHT_TRANSPORT,
        share: { module: PROBE_SHARE_MODULE, options: { url: REDIS_URL, prefix } },
      }),
  );
  try {
    await Promise.all(pools.map((p) => p.stats()));
    let failed = 0;
    let turn = 0;
    const lab0 = labCpu();
    const r = await drive(names(count), CONCURRENCY, async (n) => {
      // Four at a time to each: both pools see every mail host (domain i is on host i % 4).
      const pool = pools[Math.floor(turn++ / 4) % 2] as AuditPool;
      const report = (await pool.audit(n, withProbes)) as Report;
      if ((report.evidence.dns as { failed?: number } | undefined)?.failed) failed++;
    });
    const split = cpuSplit(r.cpuMsPerDomain, lab0, count);
    lastDnsPass = performance.now();
    const stats = await Promise.all(pools.map((p) => p.stats()));
    const probes = (k: 'probed' | 'shared' | 'reused') => stats.reduce((n, s) => n + s.probes[k], 0);
    line(
      `probes on, DNS over ${NIGHT_TRANSPORT.toUpperCase()}, 2 pools x ${perPool} thread${perPool > 1 ? 's' : ''} sharing through Redis, ${count} domains, cold`,
      `${r.rate.toFixed(0)} domains/s, p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms; probes run ${probes('probed')}, ` +
        `read from Redis ${probes('shared')}, reused in a thread ${probes('reused')}; ` +
        `${failed} audits with a failed lookup (should be 0); ${split}`,
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

// 6. A night, end to end.
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * Node's flags of the service processes, as infra/deploy runs them: V8's semi-spaces at 16 MB and its
 * old generation collected when it has doubled (docs/performance.md, memory). `--no-service-flags`:
 * without them, to compare.
 */
const SERVICE_NODE_FLAGS = process.argv.includes('--no-service-flags')
  ? []
  : ['--max-semi-space-size=16', '--heap-growing-percent=100'];

function start(command: string, env: Record<string, string>): ChildProcess {
  const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROF, command)] : [];
  const args = [...SERVICE_NODE_FLAGS, ...prof, join(ROOT, 'packages/cli/bin/mailaudit.js'), command];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    if (!/API listening/.test(text)) process.stderr.write(`[${command}] ${text}`);
  });
  return child;
}

/** A process's CPU time so far (user + system, ms), read before it stops. */
function processCpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** A process's peak resident set (VmHWM), read before it stops. */
function vmHwm(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

async function night(workers: number): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const prefix = `bench:${schema}`;
  const admin = createSql(DATABASE_URL, { max: 1 });
  await admin`create schema ${admin(schema)}`;
  const sql = createSql(DATABASE_URL, { schema, max: 4 });
  const children: ChildProcess[] = [];
  try {
    await migrate(sql);
    const tenant = await createTenant(sql, 'bench');
    const { key } = await createApiKey(sql, tenant.id, ['read', 'audit', 'admin']);
    const port = await freePort();
    const env: Record<string, string> = {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      REPORT_LINK_SECRET: 'bench-report-link-secret',
      MAILAUDIT_RESOLVERS: lab.resolver,
      MAILAUDIT_ALLOW_PRIVATE_TARGETS: '1',
      MAILAUDIT_CA_FILE: lab.caFile,
      MAILAUDIT_DKIM_SELECTORS: 'default',
      MAILAUDIT_IP_BLOCKLISTS: IP_BLOCKLIST,
      MAILAUDIT_DOMAIN_BLOCKLISTS: DOMAIN_BLOCKLIST,
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      WORKER_AUDIT_THREADS: String(Math.max(1, Math.floor(THREADS / workers))),
      DNS_TRANSPORT: NIGHT_TRANSPORT,
    };
    const api = start('serve', env);
    children.push(api);
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600 || api.exitCode !== null) throw new Error('the API did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Registered through the API, as a control panel does (not timed).
    const list = names(NIGHTLY);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= list.length) return;
          const res = await fetch(`${base}/v1/domains/${list[i]}`, {
            method: 'PUT',
            headers,
            body: JSON.stringify({ nightly: true }),
          });
          if (!res.ok) throw new Error(`PUT /v1/domains/${list[i]}: ${res.status} ${await res.text()}`);
        }
      }),
    );
    await resolverHealthy();
    for (let w = 0; w < workers; w++) children.push(start('worker', env));
    // The night, started through the API; done when its last audit is stored.
    const ticks0 = machineTicks();
    const t0 = performance.now();
    const started = await fetch(`${base}/v1/nightly/run`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    if (started.status !== 202) throw new Error(`POST /v1/nightly/run: ${started.status}`);
    let run: { id: string; status: string; audits: number } | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const res = await fetch(`${base}/v1/nightly/runs`, { headers });
      run = ((await res.json()) as { runs: { id: string; status: string; audits: number }[] }).runs[0];
      if (run?.status === 'done') break;
      if (performance.now() - t0 > 1_800_000) throw new Error('the night did not end within 30 minutes');
    }
    const seconds = (performance.now() - t0) / 1000;
    const rss = children.slice(1).map((c) => vmHwm(c.pid));
    const workerCpuMs = children.slice(1).reduce((sum, c) => sum + processCpuMs(c.pid), 0);
    const [counts] = await sql<{ done: number; failed: number; p50: number; p95: number }[]>`
      select count(*) filter (where a.status = 'done')::int as done,
             count(*) filter (where a.status = 'failed')::int as failed,
             percentile_cont(0.5) within group (order by (r.report->>'durationMs')::int) as p50,
             percentile_cont(0.95) within group (order by (r.report->>'durationMs')::int) as p95
      from audits a left join reports r on r.audit_id = a.id
      where a.nightly_run_id = ${run?.id as string}`;
    line(
      `night end to end, ${workers} worker process${workers > 1 ? 'es' : ''}, DNS over ${NIGHT_TRANSPORT.toUpperCase()}`,
      `${NIGHTLY} domains in ${seconds.toFixed(1)} s = ${(NIGHTLY / seconds).toFixed(0)} domains/s, ` +
        `${counts?.done} reports stored, ${counts?.failed} failed, ${NIGHTLY - (counts?.done ?? 0) - (counts?.failed ?? 0)} lost; ` +
        `audit p50 ${Number(counts?.p50).toFixed(0)} ms, p95 ${Number(counts?.p95).toFixed(0)} ms; ` +
        `peak RSS per worker ${rss.map(mib).join(', ')} (${env.WORKER_AUDIT_THREADS} audit thread${env.WORKER_AUDIT_THREADS === '1' ? '' : 's'} each); ` +
        stealShare(ticks0),
    );
    // Steadier than the wall clock on a shared machine: what the workers cost, start-up included.
    line(
      '  CPU of the worker processes',
      `${(workerCpuMs / NIGHTLY).toFixed(2)} ms a domain (user + system, all threads), so ${CORES} free cores allow ` +
        `${((CORES * 1000 * NIGHTLY) / workerCpuMs).toFixed(0)} domains/s for the workers alone`,
    );
  } finally {
    await Promise.all(children.map(stop));
    await sql.end();
    await admin`drop schema ${admin(schema)} cascade`;
    await admin.end();
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [c, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = c;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

if (!SKIP_NIGHTLY && !ONLY_PROBES) {
  await night(1);
  await night(2);
}
line('peak RSS of this process', mib(peakRss()));
