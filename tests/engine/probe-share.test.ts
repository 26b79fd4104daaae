/**
 * Probe results and the per-address connection limit shared through the real Redis by two engine
 * instances (each with its own Redis connection, resolver and process-level caches, as two worker
 * processes have), against the lab's real mail hosts:
 * - many domains on the same lab mail host: the host gets one probe per address, port and server
 *   name in all (connections counted where they are opened), and every report says what an audit
 *   without any cache says;
 * - the limit holds across the two: the most connections at once seen by a TCP server of the test;
 * - a killed holder's claim on a probe, and its connection slot, expire;
 * - what could not be seen (a timeout) is kept a short time only, what the audit's own deadline cut
 *   short never.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AddressLimiter,
  type AuditOptions,
  auditDomain,
  bothLimits,
  type Connector,
  DnsCache,
  netConnector,
  type PortProbe,
  type PortTarget,
  ProbeCache,
  type ProbeEnv,
  type Report,
  Resolver,
  type StoredProbe,
  TrustStore,
} from '@mailaudit/engine';
import { BULK_HOSTS, bulkDomainName, ensureLab, type LabInfo } from '@mailaudit/lab';
import { RedisConnectionLimiter, RedisProbeShare, redisProbeShare } from '@mailaudit/queue';
import { Redis } from 'ioredis';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test:probe-share:${randomBytes(4).toString('hex')}`;
const DOMAINS = 24;

let lab: LabInfo;
const connections: Redis[] = [];

function redis(): Redis {
  const r = new Redis(REDIS_URL);
  connections.push(r);
  return r;
}

before(async () => {
  lab = await ensureLab({ bulk: DOMAINS });
});

after(async () => {
  const r = redis();
  let cursor = '0';
  do {
    const [c, keys] = await r.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    cursor = c;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  for (const c of connections) c.disconnect();
});

/** Opens connections as the engine does, counting them per address and port. */
function countingConnector(counts: Map<string, number>): Connector {
  return {
    connect(address, port, timeoutMs) {
      const k = `${address}:${port}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      return netConnector.connect(address, port, timeoutMs);
    },
  };
}

/** One "worker": its own Redis connection, resolver, DNS cache, probe cache and limits. */
function instance(prefix: string, counts: Map<string, number>, trust: TrustStore) {
  const resolver = new Resolver({ servers: [lab.resolver] });
  const shared = redisProbeShare(redis(), { prefix, lockMs: 5000, perAddress: 4 });
  const probeCache = new ProbeCache({ share: shared.share });
  return {
    resolver,
    probeCache,
    audit: (domain: string, options: AuditOptions) =>
      auditDomain(domain, options, {
        dns: new DnsCache(resolver),
        now: () => new Date(),
        trust,
        connector: countingConnector(counts),
        limiter: bothLimits(new AddressLimiter(4), shared.limiter),
        probeCache,
      }),
  };
}

/** What must not depend on the cache: findings, categories, score and the ports' evidence. */
function verdict(r: Report) {
  return {
    score: r.score,
    grade: r.grade,
    outcome: r.outcome,
    categories: r.categories,
    findings: r.findings,
    transport: r.evidence.transport,
  };
}

describe('probe results shared through Redis by two engine instances', () => {
  it('probes each address, port and server name of a shared mail host once, and reports what an uncached audit reports', async () => {
    const options: AuditOptions = {
      allowPrivateTargets: true,
      dkimSelectors: ['default'],
      ipBlocklists: lab.ipBlocklists,
      domainBlocklists: lab.domainBlocklists,
    };
    const trust = new TrustStore(lab.caFile);
    const counts = new Map<string, number>();
    const a = instance(`${PREFIX}:once`, counts, trust);
    const b = instance(`${PREFIX}:once`, counts, trust);
    const domains = Array.from({ length: DOMAINS }, (_, i) => bulkDomainName(i + 1));
    // Both instances audit every domain, at once: each result is asked for 2 x 6 times at the same moment.
    const [ra, rb] = await Promise.all([
      Promise.all(domains.map((d) => a.audit(d, options))),
      Promise.all(domains.map((d) => b.audit(d, options))),
    ]);

    // Uncached: one audit of one domain per mail host, no probe cache, its own connections counted.
    const alone = new Map<string, number>();
    const resolver = new Resolver({ servers: [lab.resolver] });
    const uncached = new Map<string, Report>();
    try {
      for (const d of domains) {
        uncached.set(
          d,
          await auditDomain(d, options, {
            dns: resolver,
            now: () => new Date(),
            trust,
            connector: countingConnector(d === domains[0] ? alone : new Map()),
            probeCache: null,
          }),
        );
      }
    } finally {
      resolver.close();
      a.resolver.close();
      b.resolver.close();
    }
    for (const r of [...ra, ...rb]) {
      assert.deepEqual(verdict(r), verdict(uncached.get(r.domain) as Report), r.domain);
      assert.equal(r.outcome, 'complete', r.domain);
    }
    // One domain's probes alone: every port of its mail host, one or two connections each.
    const ports = [...alone.keys()].map((k) => Number(k.split(':').at(-1))).sort((x, y) => x - y);
    assert.deepEqual(ports, [25, 110, 143, 465, 587, 993, 995]);
    // All 48 audits of the two instances: the same connections per host as that one audit.
    const hosts = new Set([...counts.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))));
    assert.equal(hosts.size, BULK_HOSTS);
    for (const [k, n] of counts) {
      const port = k.slice(k.lastIndexOf(':') + 1);
      const once = [...alone].find(([ak]) => ak.endsWith(`:${port}`))?.[1];
      assert.equal(n, once, `${k}: ${n} connections for ${DOMAINS * 2} audits, one probe makes ${once}`);
    }
    const probed = a.probeCache.stats.probed + b.probeCache.stats.probed;
    assert.equal(probed, BULK_HOSTS * 7);
    // The other instance read the results the first one stored.
    assert.ok(a.probeCache.stats.shared > 0 || b.probeCache.stats.shared > 0);
  });
});

/** A TCP server of the test: counts connections open at once, holds each `holdMs` then closes it. */
async function holdingServer(holdMs: number): Promise<{ server: Server; port: number; max: () => number }> {
  let open = 0;
  let max = 0;
  const server = createServer((socket) => {
    open++;
    max = Math.max(max, open);
    socket.on('error', () => {});
    socket.on('close', () => open--);
    setTimeout(() => socket.end(), holdMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, max: () => max };
}

/** A connection to the server, until the server closes it. */
function visit(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

describe('the per-address connection limit through Redis', () => {
  it('holds across two instances, each with a larger limit of its own', async () => {
    const srv = await holdingServer(80);
    try {
      const opts = { prefix: `${PREFIX}:limit`, perAddress: 2, lockMs: 5000 };
      const limiters = [0, 1].map(() => bothLimits(new AddressLimiter(4), new RedisConnectionLimiter(redis(), opts)));
      const t0 = Date.now();
      await Promise.all(
        limiters.flatMap((l) => Array.from({ length: 8 }, () => l.run('127.0.0.1', () => visit(srv.port)))),
      );
      assert.equal(srv.max(), 2, 'at most 2 connections at once from both');
      // 16 connections of 80 ms, 2 at a time: at least 8 rounds.
      assert.ok(Date.now() - t0 >= 8 * 80 - 20, `${Date.now() - t0} ms`);
    } finally {
      srv.server.close();
    }
  });
});

/** A process that takes the claim on a probe and a connection slot, says so, and hangs until killed. */
function holder(prefix: string, key: string): Promise<{ kill: () => void }> {
  const code = `
    import { Redis } from 'ioredis';
    import { RedisProbeShare, RedisConnectionLimiter } from '@mailaudit/queue';
    const redis = new Redis(${JSON.stringify(REDIS_URL)});
    const opts = { prefix: ${JSON.stringify(prefix)}, lockMs: 1000, perAddress: 1 };
    const hang = () => new Promise(() => {});
    new RedisConnectionLimiter(redis, opts).run('192.0.2.1', () => {
      process.stdout.write('slot\\n');
      return hang();
    });
    new RedisProbeShare(redis, opts).get(${JSON.stringify(key)}, () => {
      process.stdout.write('claim\\n');
      return hang();
    }, 60000);
  `;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('slot') && seen.includes('claim')) resolve({ kill: () => child.kill('SIGKILL') });
    });
    child.on('exit', (c) => reject(new Error(`holder exited with ${c}`)));
  });
}

const stored = (state: PortProbe['result']['state']) => ({
  v: 1 as const,
  result: {
    host: 'mx.example',
    address: '192.0.2.1',
    port: 25,
    protocol: 'smtp' as const,
    tlsMode: 'starttls' as const,
    state,
  },
  chain: [],
});

describe('claims of a killed holder', () => {
  it('expire: the next caller probes, and gets a slot, after the claim lifetime', async () => {
    const prefix = `${PREFIX}:killed`;
    const h = await holder(prefix, 'k1');
    const opts = { prefix, lockMs: 1000, perAddress: 1 };
    const r = redis();
    // While the holder lives, its claim holds: nobody else probes, and waiting gives up in time.
    const share = new RedisProbeShare(r, opts);
    let ran = 0;
    const run = async () => {
      ran++;
      return { stored: stored('open'), ttlMs: 60_000 };
    };
    assert.equal(await share.get('k1', run, 1500), undefined);
    assert.equal(ran, 0);
    h.kill();
    const t0 = Date.now();
    const [got, slotAfter] = await Promise.all([
      share.get('k1', run, 10_000),
      (async () => {
        const s = Date.now();
        await new RedisConnectionLimiter(r, opts).run('192.0.2.1', async () => {});
        return Date.now() - s;
      })(),
    ]);
    assert.equal(ran, 1);
    assert.equal(got?.ran, true);
    assert.ok(Date.now() - t0 <= 2500, `${Date.now() - t0} ms after the kill`);
    assert.ok(slotAfter <= 2500, `slot free ${slotAfter} ms after the kill`);
    // And the result is there for the next one, without a probe.
    const again = await share.get('k1', run, 1000);
    assert.deepEqual([again?.ran, (again?.stored as StoredProbe | undefined)?.result.state, ran], [false, 'open', 1]);
  });
});

describe('what could not be checked', () => {
  const target: PortTarget = {
    host: 'mx.example',
    names: ['mx.example'],
    address: '192.0.2.1',
    port: 25,
    protocol: 'smtp',
    tlsMode: 'starttls',
  };
  const trust = new TrustStore();
  function env(remaining: number): ProbeEnv {
    return {
      connector: netConnector,
      allowPrivateTargets: false,
      trust,
      now: () => new Date(),
      remaining: () => remaining,
      timeouts: { connect: 5000, read: 10_000, handshake: 10_000 },
      ehloName: 'mailaudit.invalid',
    };
  }
  const result = (state: PortProbe['result']['state']): PortProbe => ({ result: { ...target, state }, served: [] });

  it('is kept the short time only, in Redis and in the process', async () => {
    const prefix = `${PREFIX}:unknown`;
    const r = redis();
    const cache = new ProbeCache({ share: new RedisProbeShare(r, { prefix }), unknownTtlMs: 300 });
    let runs = 0;
    const timesOut = async () => {
      runs++;
      return result('timeout');
    };
    await cache.get(target, env(60_000), timesOut);
    const keys = await r.keys(`${prefix}:*`);
    assert.equal(keys.length, 1);
    const ttl = await r.pttl(keys[0] as string);
    assert.ok(ttl > 0 && ttl <= 300, `kept ${ttl} ms`);
    await cache.get(target, env(60_000), timesOut);
    assert.equal(runs, 1, 'reused while it lives');
    await new Promise((res) => setTimeout(res, 350));
    await cache.get(target, env(60_000), timesOut);
    assert.equal(runs, 2, 'probed again after the short time');
  });

  it('is never kept when the audit’s own deadline cut the probe short', async () => {
    const prefix = `${PREFIX}:deadline`;
    const r = redis();
    const cache = new ProbeCache({ share: new RedisProbeShare(r, { prefix }) });
    let runs = 0;
    const cutShort = async (e: ProbeEnv) => {
      runs++;
      // As dialogs.ts does when the deadline is nearer than a step's timeout.
      e.onDeadline?.();
      return result('timeout');
    };
    const first = await cache.get(target, env(100), cutShort);
    assert.equal(first.result.state, 'timeout');
    assert.deepEqual(await r.keys(`${prefix}:*`), []);
    // The next audit, with time, probes for itself.
    const second = await cache.get(target, env(60_000), async () => {
      runs++;
      return result('open');
    });
    assert.deepEqual([second.result.state, runs], ['open', 2]);
  });

  it('cut short, leaves the audits that waited for it one probe of their own, not one each', async () => {
    const cache = new ProbeCache();
    let runs = 0;
    let release = () => {};
    const first = cache.get(target, env(100), async (e) => {
      runs++;
      await new Promise<void>((r) => {
        release = r;
      });
      e.onDeadline?.();
      return result('timeout');
    });
    // Five audits with time join the probe under way, which then turns out to be its audit's alone.
    const waiting = Array.from({ length: 5 }, () =>
      cache.get(target, env(60_000), async () => {
        runs++;
        return result('open');
      }),
    );
    await new Promise((r) => setImmediate(r));
    release();
    assert.equal((await first).result.state, 'timeout');
    const states = (await Promise.all(waiting)).map((p) => p.result.state);
    assert.deepEqual([states, runs], [['open', 'open', 'open', 'open', 'open'], 2]);
  });
});

describe('the connection to Redis', () => {
  const fresh = (url: string) => {
    // As the audit threads connect (createProbeShare): no offline queue, commands fail at once.
    const r = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500 });
    r.on('error', () => {});
    connections.push(r);
    return r;
  };

  it('just made: the first probe waits for it and is shared', async () => {
    const prefix = `${PREFIX}:fresh`;
    const share = new RedisProbeShare(fresh(REDIS_URL), { prefix });
    const got = await share.get('k', async () => ({ stored: stored('open'), ttlMs: 60_000 }), 1000);
    assert.equal(got?.ran, true);
    assert.deepEqual(await redis().keys(`${prefix}:*`), [`${prefix}:probe:r:k`]);
  });

  it('unreachable: probes run unshared, under the process’s own limit, and audits go on', async () => {
    // A port of this machine where nothing listens (taken, then closed).
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = fresh(`redis://127.0.0.1:${port}`);
    const t0 = Date.now();
    const got = await new RedisProbeShare(r).get('k', async () => ({ stored: stored('open'), ttlMs: 60_000 }), 1000);
    assert.equal(got?.ran, true);
    assert.equal(await new RedisConnectionLimiter(r).run('192.0.2.1', async () => 'ran'), 'ran');
    assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
  });
});
