/**
 * One thread of an AuditPool (pool.ts): its own resolver, answer cache, probe cache, trust store
 * (parsed on first probe only) and connection limiter; audits as the messages ask, each answered
 * with its report as JSON text. Tasks come in batches; the answers of one turn of the event loop
 * go back in one message at its end (pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { auditDomain } from './audit.js';
import { DnsCache } from './dns/cache.js';
import { ResolverHealth } from './dns/control.js';
import { Resolver } from './dns/resolver.js';
import { TrustStore } from './net/trust.js';
import type { ProbeShareFactory, ThreadResult, ThreadSetup, ThreadTask } from './pool.js';
import { AddressLimiter, bothLimits, type ConnectionLimiter, ProbeCache } from './probes/limits.js';

const setup = workerData as ThreadSetup;
if (!parentPort) throw new Error('pool-thread.ts runs as a worker thread of an AuditPool');
const port = parentPort;

const resolver = new Resolver({
  servers: setup.servers,
  maxInFlight: setup.maxInFlight,
  ...(setup.dnsTransport ? { transport: setup.dnsTransport } : {}),
});
const dns = new DnsCache(resolver, setup.dnsCacheEntries ? { maxEntries: setup.dnsCacheEntries } : {});
const trust = new TrustStore(setup.caFile);
const local = new AddressLimiter(setup.perAddress);
// Probe results and the connection limit shared with other processes, when the pool was given a share.
const shared = setup.share
  ? ((await import(setup.share.module)) as { createProbeShare: ProbeShareFactory }).createProbeShare(
      setup.share.options,
    )
  : undefined;
const limiter: ConnectionLimiter = shared ? bothLimits(local, shared.limiter) : local;
const probeCache = new ProbeCache({ ...setup.probeCache, ...(shared ? { share: shared.share } : {}) });
const now = () => new Date();
const health = setup.control
  ? new ResolverHealth(setup.servers, { now: () => Date.now(), ttlMs: setup.controlTtlMs ?? 30_000 })
  : undefined;

/** Answers finished this turn of the event loop, posted together at its end. */
let outbox: ThreadResult[] = [];
function answer(result: ThreadResult): void {
  if (outbox.push(result) > 1) return;
  setImmediate(() => {
    const batch = outbox;
    outbox = [];
    port.postMessage(batch);
  });
}

async function run(task: ThreadTask): Promise<void> {
  if ('stats' in task) {
    answer({ id: task.id, stats: { resolver: resolver.stats, cache: dns.stats, probes: probeCache.stats } });
    return;
  }
  let result: ThreadResult;
  try {
    const report = await auditDomain(task.domain, task.options, {
      dns,
      now,
      trust,
      limiter,
      probeCache,
      ...(setup.ehloName ? { ehloName: setup.ehloName } : {}),
      ...(health ? { control: health.check } : {}),
    });
    result = { id: task.id, json: JSON.stringify(report) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    result = { id: task.id, error: e.message, name: e.name };
  }
  answer(result);
}

port.on('message', (batch: ThreadTask[]) => {
  for (const task of batch) void run(task);
});
