/**
 * `smtp.unreachable` against the lab's real servers, only for what the servers did:
 * - the MX of `smtp-blackhole.test` never answers on port 25 (its SYNs are dropped). Audited by a
 *   fresh `mailaudit` process, which has seen no port 25 answer anywhere (its own outbound port 25
 *   could be what is blocked): not unreachable, `smtp.not_checked`, transport `error`, partial;
 * - the same domain audited after `good.test` by one process, which then has seen port 25 of another
 *   lab host accept: `smtp.unreachable`;
 * - a refused port (`smtp-unreachable.test`, nothing listening: RST) is unreachable in a fresh
 *   process too;
 * - the audit's deadline cutting the connect short: not checked, even with port 25 proven;
 * - an error on the auditing side (a source address this machine does not have: EADDRNOTAVAIL at
 *   bind, nothing sent): not checked, naming the error;
 * - through the Redis probe share, a timeout carries the evidence of the process that probed,
 *   never the reader's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AddressLimiter,
  type AuditOptions,
  AuditPool,
  auditDomain,
  bothLimits,
  DnsCache,
  EgressWitness,
  type PortResult,
  ProbeCache,
  type Report,
  Resolver,
  TrustStore,
  tcpConnector,
} from '@mailaudit/engine';
import { ensureLab, type LabInfo } from '@mailaudit/lab';
import { redisProbeShare } from '@mailaudit/queue';
import { Redis } from 'ioredis';
import { runCli } from '../helpers/cli.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test:egress:${randomBytes(4).toString('hex')}`;
const BLACKHOLE = 'smtp-blackhole.test';
const connections: Redis[] = [];
let lab: LabInfo;

before(async () => {
  lab = await ensureLab();
});

after(async () => {
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${PREFIX}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  for (const c of connections) c.disconnect();
});

/** `mailaudit audit <domains> --json` in a process of its own, one domain at a time, in order. */
async function cli(domains: string[], extra: string[] = []): Promise<Map<string, Report>> {
  const args = ['audit', ...domains, '--json', '--resolver', lab.resolver, '--ca-file', lab.caFile];
  args.push('--allow-private-targets', '--concurrency', '1', ...extra);
  for (const z of lab.ipBlocklists) args.push('--ip-blocklist', z);
  for (const z of lab.domainBlocklists) args.push('--domain-blocklist', z);
  const run = await runCli(args);
  assert.equal(run.code, 0, run.stderr);
  const reports = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Report);
  return new Map(reports.map((r) => [r.domain, r]));
}

const codes = (r: Report | undefined) => (r?.findings ?? []).map((f) => f.code).sort();
const finding = (r: Report | undefined, code: string) => r?.findings.find((f) => f.code === code);
const transport = (r: Report | undefined) => r?.categories.find((c) => c.id === 'transport');
const port25 = (r: Report | undefined) =>
  ((r?.evidence.transport as { ports?: PortResult[] } | undefined)?.ports ?? []).filter((p) => p.port === 25);

describe('port 25 that never answers, through `mailaudit audit`', () => {
  it('from a process that has seen no port 25 answer: could not check, not unreachable', async () => {
    const r = (await cli([BLACKHOLE])).get(BLACKHOLE);
    assert.deepEqual(codes(r), ['smtp.not_checked']);
    const nc = finding(r, 'smtp.not_checked');
    assert.equal(nc?.severity, 'info');
    assert.equal(nc?.params.reason, 'probe.egress_unproven');
    assert.deepEqual([transport(r)?.status, transport(r)?.score], ['error', null]);
    assert.equal(r?.outcome, 'partial');
    assert.deepEqual((r?.evidence.scoring as { leftOut?: string[] } | undefined)?.leftOut, ['transport']);
    // Nothing else was wrong: the grade is that of the categories checked.
    assert.equal(r?.grade, 'A+');
    const [p] = port25(r);
    assert.deepEqual([p?.state, p?.egressSeenAt, p?.cut], ['timeout', undefined, undefined]);
  });

  it('after the same process saw port 25 of another lab host accept: unreachable', async () => {
    const reports = await cli(['good.test', BLACKHOLE]);
    assert.deepEqual(codes(reports.get('good.test')), []);
    const r = reports.get(BLACKHOLE);
    assert.deepEqual(codes(r), ['smtp.unreachable']);
    assert.equal(finding(r, 'smtp.unreachable')?.severity, 'critical');
    assert.deepEqual([transport(r)?.status, r?.outcome, r?.grade], ['fail', 'complete', 'D']);
    const [p] = port25(r);
    assert.equal(p?.state, 'timeout');
    assert.ok(p?.egressSeenAt, 'the evidence the verdict rests on is in the report');
  });

  it('a refused port 25 is unreachable from a fresh process too: a reset is the server’s answer', async () => {
    const r = (await cli(['smtp-unreachable.test'])).get('smtp-unreachable.test');
    assert.deepEqual(codes(r), ['smtp.unreachable']);
    assert.equal(port25(r)[0]?.state, 'closed');
  });

  it("the audit's deadline cuts the connect short: could not check, even with port 25 proven", async () => {
    const reports = await cli(['good.test', BLACKHOLE], ['--timeout', '4000']);
    assert.deepEqual(codes(reports.get('good.test')), [], 'good.test audits well within the deadline');
    const r = reports.get(BLACKHOLE);
    assert.deepEqual(codes(r), ['smtp.not_checked']);
    assert.equal(finding(r, 'smtp.not_checked')?.params.reason, 'probe.deadline');
    assert.equal(port25(r)[0]?.cut, 'deadline');
  });
});

describe('port 25 in an audit pool: the threads of one process share one way out', () => {
  it("a thread whose only probe times out has the evidence of another thread's success", async () => {
    const pool = new AuditPool({ servers: [lab.resolver], threads: 2, caFile: lab.caFile });
    try {
      const o = { ...options(), allowPrivateTargets: true };
      // The pool hands work to the least busy thread: good.test to one, the blackhole to the other.
      const [good, hole] = await Promise.all([pool.audit('good.test', o), pool.audit(BLACKHOLE, o)]);
      assert.deepEqual(codes(good), []);
      assert.deepEqual(codes(hole), ['smtp.unreachable']);
      assert.ok(port25(hole)[0]?.egressSeenAt);
    } finally {
      await pool.close();
    }
  });
});

const options = (): AuditOptions => ({
  allowPrivateTargets: true,
  dkimSelectors: ['default'],
  ipBlocklists: lab.ipBlocklists,
  domainBlocklists: lab.domainBlocklists,
});

describe('port 25 from the engine with real sockets', () => {
  it('an error on the auditing side (EADDRNOTAVAIL: a source address not on this machine): could not check', async () => {
    const resolver = new Resolver({ servers: [lab.resolver] });
    const egress = new EgressWitness();
    egress.saw('127.0.0.99', Date.now());
    const r = await auditDomain('smtp-unreachable.test', options(), {
      dns: new DnsCache(resolver),
      now: () => new Date(),
      trust: new TrustStore(lab.caFile),
      // 198.51.100.0/24 is documentation space, on no interface here: bind fails, nothing is sent.
      connector: tcpConnector({ localAddress: '198.51.100.7' }),
      probeCache: null,
      egress,
    });
    assert.ok(!codes(r).includes('smtp.unreachable'), codes(r).join());
    const nc = finding(r, 'smtp.not_checked');
    assert.deepEqual([nc?.params.reason, nc?.params.code], ['probe.local_error', 'EADDRNOTAVAIL']);
    assert.equal(transport(r)?.status, 'error');
    assert.equal(r.outcome, 'partial');
  });

  it("through the Redis probe share, a timeout carries the prober's evidence, not the reader's", async () => {
    const trust = new TrustStore(lab.caFile);
    const instance = (prefix: string) => {
      const resolver = new Resolver({ servers: [lab.resolver] });
      const redis = new Redis(REDIS_URL);
      connections.push(redis);
      const shared = redisProbeShare(redis, { prefix, lockMs: 5000, perAddress: 4 });
      const egress = new EgressWitness();
      const probeCache = new ProbeCache({ share: shared.share });
      const audit = (domain: string) =>
        auditDomain(domain, options(), {
          dns: new DnsCache(resolver),
          now: () => new Date(),
          trust,
          limiter: bothLimits(new AddressLimiter(4), shared.limiter),
          probeCache,
          egress,
        });
      return { audit, probeCache };
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    // A has seen port 25 answer (good.test) and probes the blackhole; B, fresh, asks while A probes.
    const a = instance(`${PREFIX}:proven`);
    const b = instance(`${PREFIX}:proven`);
    await a.audit('good.test');
    const [ra, rb] = await Promise.all([a.audit(BLACKHOLE), sleep(1000).then(() => b.audit(BLACKHOLE))]);
    assert.deepEqual(codes(ra), ['smtp.unreachable']);
    assert.deepEqual(codes(rb), ['smtp.unreachable'], "B read A's timeout, with A's evidence");
    assert.ok(b.probeCache.stats.shared > 0 && b.probeCache.stats.probed < a.probeCache.stats.probed);
    assert.equal(port25(rb)[0]?.egressSeenAt, port25(ra)[0]?.egressSeenAt);

    // C, fresh, probes the blackhole; D has seen port 25 answer, but reads C's timeout: not checked.
    const c = instance(`${PREFIX}:unproven`);
    const d = instance(`${PREFIX}:unproven`);
    await d.audit('good.test');
    const [rc, rd] = await Promise.all([c.audit(BLACKHOLE), sleep(1000).then(() => d.audit(BLACKHOLE))]);
    assert.deepEqual(codes(rc), ['smtp.not_checked']);
    assert.deepEqual(codes(rd), ['smtp.not_checked'], "D read C's timeout, which C could not vouch for");
  });
});
