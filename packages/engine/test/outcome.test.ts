/**
 * The outcome of an audit: complete, partial (the domain's lookups failed; their categories left
 * out of the score) or inconclusive (the resolvers fail the control query: no score, no grade,
 * one finding), and the control query itself against real sockets on loopback.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { Packet } from 'dns2';
import { auditDomain } from '../src/audit.js';
import type { ControlResult } from '../src/dns/control.js';
import { ResolverHealth } from '../src/dns/control.js';
import { mx, stubDns, txt } from './helpers/stub-dns.js';

const options = { probes: false, ipBlocklists: [], domainBlocklists: [], dkimSelectors: ['s1'] };
const now = () => new Date('2026-11-29T03:00:00Z');
const records = {
  MX: mx([10, 'mx.example.com']),
  TXT: txt('v=spf1 mx -all'),
};
const zone = {
  'example.com': records,
  'mx.example.com': { A: ['192.0.2.1'] },
  '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@example.com') },
  's1._domainkey.example.com': { TXT: txt('v=DKIM1; p=') },
};
const control = (ok: boolean, failing: string[] = []) => {
  const calls: number[] = [];
  const check = async (): Promise<ControlResult> => {
    calls.push(1);
    return { ok, servers: ['192.0.2.53'], failing, checkedAt: 0 };
  };
  return { check, calls };
};

describe('audit outcome', () => {
  it('complete when every lookup answered; the control query is not asked', async () => {
    const c = control(true);
    const r = await auditDomain('example.com', options, { dns: stubDns(zone, { ad: true }), now, control: c.check });
    assert.equal(r.outcome, 'complete');
    assert.equal(c.calls.length, 0);
    assert.equal(typeof r.score, 'number');
  });

  it('partial when one of the domain lookups failed and the resolvers work: that category is left out', async () => {
    const c = control(true);
    const r = await auditDomain('example.com', options, {
      dns: stubDns({ ...zone, '_dmarc.example.com': { fail: 'timeout' } }, { ad: true }),
      now,
      control: c.check,
    });
    assert.equal(r.outcome, 'partial');
    const dmarc = r.categories.find((x) => x.id === 'dmarc');
    assert.deepEqual([dmarc?.status, dmarc?.score], ['error', null]);
    assert.deepEqual((r.evidence.scoring as { leftOut: string[] }).leftOut, ['dmarc']);
    assert.ok(r.findings.some((f) => f.code === 'dns.lookup_failed'));
    assert.ok(!r.findings.some((f) => f.code === 'dmarc.missing'), 'a failed lookup is never a missing record');
  });

  it('inconclusive when lookups failed and no resolver answers the control query: no score, one finding', async () => {
    const c = control(false, ['192.0.2.53']);
    const dead = stubDns({ 'example.com': { fail: 'timeout' } });
    const r = await auditDomain('example.com', options, { dns: dead, now, control: c.check });
    assert.deepEqual([r.outcome, r.score, r.grade], ['inconclusive', null, null]);
    assert.deepEqual(
      r.findings.map((f) => [f.code, f.params.resolvers]),
      [['audit.inconclusive', ['192.0.2.53']]],
    );
    assert.ok(r.categories.every((x) => x.status === 'error' && x.score === null));
  });

  it("the domain's own nameservers failing while the resolvers work is a critical finding, grade F, not inconclusive", async () => {
    const c = control(true);
    const r = await auditDomain('example.com', options, {
      dns: stubDns({ 'example.com': { fail: 'timeout' } }),
      now,
      control: c.check,
    });
    assert.equal(r.outcome, 'partial');
    assert.equal(r.grade, 'F');
    const f = r.findings.find((x) => x.code === 'domain.dns_failed');
    assert.equal(f?.severity, 'critical');
  });
});

describe('the control query (real sockets on loopback)', () => {
  const server = createSocket('udp4');
  let port = 0;
  let asked = 0;
  before(async () => {
    server.on('message', (msg, rinfo) => {
      const req = Packet.parse(msg);
      asked++;
      const res = Packet.createResponseFromRequest(req);
      res.answers.push({ name: '', type: Packet.TYPE.NS, class: Packet.CLASS.IN, ttl: 60, ns: 'a.root.test' } as never);
      server.send(res.toBuffer(), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = server.address().port;
  });
  after(() => server.close());

  it('names the resolver that does not answer, keeps the answer for its TTL, and is ok while one answers', async () => {
    // A loopback port where nothing listens: the query gets no answer.
    const deadServer = createSocket('udp4');
    await new Promise<void>((resolve) => deadServer.bind(0, '127.0.0.1', resolve));
    const deadPort = deadServer.address().port;
    deadServer.close();
    let t = 1000;
    const health = new ResolverHealth([`127.0.0.1:${deadPort}`, `127.0.0.1:${port}`], {
      now: () => t,
      timeoutMs: 2000,
      attempts: 1,
      ttlMs: 5000,
    });
    const first = await health.check();
    assert.deepEqual([first.ok, first.failing], [true, [`127.0.0.1:${deadPort}`]]);
    const n = asked;
    t += 1000;
    assert.equal(await health.check(), first, 'cached within its TTL');
    assert.equal(asked, n);
    t += 5000;
    await health.check();
    assert.equal(asked, n + 1, 'asked again once stale');

    const alone = new ResolverHealth([`127.0.0.1:${deadPort}`], { now: () => t, timeoutMs: 2000, attempts: 1 });
    const r = await alone.check();
    assert.deepEqual([r.ok, r.failing], [false, [`127.0.0.1:${deadPort}`]]);
  });
});
