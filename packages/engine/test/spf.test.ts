/**
 * The audit's SPF walk and its findings, with stubbed DNS: the RFC 7208 4.6.4 boundaries
 * (10 lookups pass, 11 fail; 2 void lookups pass, 3 fail), includes, redirects, loops,
 * syntax, `all` and `ptr`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateSpf, fetchSpf } from '../src/checks/spf/index.js';
import { parseSpf } from '../src/checks/spf/parse.js';
import { checkHost } from '../src/index.js';
import { type StubZone, stubDns, txt } from './helpers/stub-dns.js';

async function spfCodes(zone: StubZone, domain = 'example.test') {
  const input = await fetchSpf(stubDns(zone), domain, true);
  return {
    input,
    codes: evaluateSpf(input)
      .map((f) => f.code)
      .sort(),
    findings: evaluateSpf(input),
  };
}

function aTargets(prefix: string, n: number): { terms: string; zone: StubZone } {
  const zone: StubZone = {};
  const names = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}.example.test`);
  for (const [i, name] of names.entries()) zone[name] = { A: [`192.0.2.${i + 1}`] };
  return { terms: names.map((n) => `a:${n}`).join(' '), zone };
}

/** mx + include + `aCount` a: + exists: lookups, through an include (aCount + 3 in all). */
function includeChain(aCount: number): StubZone {
  const t = aTargets('h', aCount);
  return {
    'example.test': {
      TXT: txt('v=spf1 mx include:_spf.example.test -all'),
      MX: [{ preference: 10, exchange: 'mx.example.test' }],
    },
    '_spf.example.test': { TXT: txt(`v=spf1 ${t.terms} exists:e.example.test ?all`) },
    ...t.zone,
  };
}

describe('SPF lookup limit (RFC 7208 4.6.4)', () => {
  it('passes 10 DNS-querying terms, counted through includes', async () => {
    const { codes, input } = await spfCodes(includeChain(7));
    assert.equal(input.lookups, 10);
    assert.deepEqual(codes, []);
  });

  it('fails 11, with the count in params', async () => {
    const { findings, input } = await spfCodes(includeChain(8));
    assert.equal(input.lookups, 11);
    const f = findings.find((x) => x.code === 'spf.lookups.too_many');
    assert.equal(f?.params.count, 11);
    assert.equal(f?.severity, 'critical');
  });

  it('counts redirect= as a lookup and ip4/ip6/all as none', async () => {
    const { input } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 redirect=_spf.example.test') },
      '_spf.example.test': { TXT: txt('v=spf1 -all') },
    });
    assert.equal(input.lookups, 1);
  });
});

describe('SPF void lookups (RFC 7208 4.6.4)', () => {
  it('passes 2 void lookups', async () => {
    const { codes, input } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 a:void1.example.test mx:void2.example.test ip4:192.0.2.1 -all') },
    });
    assert.equal(input.voidLookups, 2);
    assert.deepEqual(codes, []);
  });

  it('fails 3, counting an a term once although A and AAAA are both asked', async () => {
    const { findings, input } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 a:void1.example.test a:void2.example.test exists:void3.example.test -all') },
      'void2.example.test': { TXT: txt('exists, but has no address') },
    });
    assert.equal(input.voidLookups, 3);
    assert.deepEqual(
      findings.map((f) => [f.code, f.params.count]),
      [['spf.void_lookups.too_many', 3]],
    );
  });

  it('does not count a lookup that failed as void', async () => {
    const { input, codes } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 a:t1.example.test a:t2.example.test a:t3.example.test -all') },
      't1.example.test': { fail: 'timeout' },
      't2.example.test': { fail: 'servfail' },
      't3.example.test': { fail: 'timeout' },
    });
    assert.equal(input.voidLookups, 0);
    assert.deepEqual(codes, []);
  });
});

describe('SPF record and its targets', () => {
  it('reports a missing record with a suggested one, and nothing more', async () => {
    const { findings } = await spfCodes({ 'example.test': { A: ['192.0.2.1'] } });
    assert.deepEqual(
      findings.map((f) => f.code),
      ['spf.missing'],
    );
    assert.deepEqual(findings[0]?.fix, { type: 'TXT', name: 'example.test', value: 'v=spf1 mx -all' });
  });

  it('never reports "missing" when the TXT lookup failed', async () => {
    const { codes } = await spfCodes({ 'example.test': { TXT: 'timeout' } });
    assert.deepEqual(codes, []);
  });

  it('joins the strings of one TXT record (RFC 7208 3.3)', async () => {
    const { codes } = await spfCodes({
      'example.test': { TXT: [{ strings: ['v=spf1 ip4:192.0.2.1', ' -all'], text: 'v=spf1 ip4:192.0.2.1 -all' }] },
    });
    assert.deepEqual(codes, []);
  });

  it('reports multiple records', async () => {
    const { codes } = await spfCodes({ 'example.test': { TXT: txt('v=spf1 -all', 'v=spf1 mx -all', 'unrelated') } });
    assert.deepEqual(codes, ['spf.multiple']);
  });

  it('reports syntax errors in the record and in included records, by their names', async () => {
    const { findings } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 include:inc.example.test -all') },
      'inc.example.test': { TXT: txt('v=spf1 ip4:300.1.1.1 -all') },
    });
    assert.deepEqual(
      findings.map((f) => [f.code, f.subject]),
      [['spf.syntax', 'inc.example.test']],
    );
    const top = await spfCodes({ 'example.test': { TXT: txt('v=spf1 mx foo:bar -all') } });
    assert.deepEqual(top.codes, ['spf.syntax']);
  });

  it('reports an include or redirect target without SPF', async () => {
    const { findings } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 include:none.example.test redirect=gone.example.test') },
      'none.example.test': { A: ['192.0.2.1'] },
    });
    assert.deepEqual(findings.map((f) => [f.code, f.subject, f.params.via]).sort(), [
      ['spf.include.missing', 'gone.example.test', 'redirect'],
      ['spf.include.missing', 'none.example.test', 'include'],
    ]);
  });

  it('detects a loop without counting it forever', async () => {
    const { findings, input } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 include:a.example.test -all') },
      'a.example.test': { TXT: txt('v=spf1 include:b.example.test -all') },
      'b.example.test': { TXT: txt('v=spf1 include:example.test -all') },
    });
    assert.deepEqual(
      findings.map((f) => [f.code, f.subject]),
      [['spf.include.loop', 'example.test']],
    );
    assert.equal(input.lookups, 3);
  });

  it('judges +all, a bare all, ?all, no all, and the all at the end of a redirect', async () => {
    const one = async (record: string, extra: StubZone = {}) =>
      (await spfCodes({ 'example.test': { TXT: txt(record) }, ...extra })).codes;
    assert.deepEqual(await one('v=spf1 +all'), ['spf.all.pass']);
    assert.deepEqual(await one('v=spf1 ip4:192.0.2.1 all'), ['spf.all.pass']);
    assert.deepEqual(await one('v=spf1 ip4:192.0.2.1 ?all'), ['spf.all.neutral']);
    assert.deepEqual(await one('v=spf1 ip4:192.0.2.1'), ['spf.all.neutral']);
    assert.deepEqual(await one('v=spf1 ip4:192.0.2.1 ~all'), []);
    assert.deepEqual(await one('v=spf1 redirect=r.example.test', { 'r.example.test': { TXT: txt('v=spf1 +all') } }), [
      'spf.all.pass',
    ]);
    const fix = (await spfCodes({ 'example.test': { TXT: txt('v=spf1 mx +all') } })).findings[0]?.fix;
    assert.equal(fix?.value, 'v=spf1 mx -all');
  });

  it('notes the ptr mechanism wherever it is', async () => {
    const { findings } = await spfCodes({
      'example.test': { TXT: txt('v=spf1 include:p.example.test -all') },
      'p.example.test': { TXT: txt('v=spf1 ptr ?all') },
    });
    assert.deepEqual(
      findings.map((f) => [f.code, f.subject]),
      [['spf.ptr', 'p.example.test']],
    );
  });

  it('counts a macro term without following it', async () => {
    const dns = stubDns({ 'example.test': { TXT: txt('v=spf1 exists:%{i}.%{d} include:%{d2}.x.test -all') } });
    const input = await fetchSpf(dns, 'example.test', false);
    assert.equal(input.lookups, 2);
    assert.deepEqual(dns.asked, ['example.test TXT']);
  });
});

describe('SPF mx terms over 10 MX records (RFC 7208 4.6.4)', () => {
  const mxes = (n: number) => Array.from({ length: n }, (_, i) => ({ preference: i, exchange: `mx${i}.big.test` }));
  it('reports an mx term whose target has 11 MX records, and passes one with 10', async () => {
    const over = await spfCodes({
      'example.test': { TXT: txt('v=spf1 mx:big.test -all') },
      'big.test': { MX: mxes(11) },
    });
    assert.deepEqual(over.codes, ['spf.mx.too_many']);
    assert.deepEqual(over.findings[0]?.params, { term: 'mx:big.test', target: 'big.test', limit: 10 });
    assert.equal(over.findings[0]?.severity, 'critical');
    const ten = await spfCodes({
      'example.test': { TXT: txt('v=spf1 mx:big.test -all') },
      'big.test': { MX: mxes(10) },
    });
    assert.deepEqual(ten.codes, []);
  });

  it('agrees with check_host, which answers permerror for the same record', async () => {
    const zone: StubZone = {
      'example.test': { TXT: txt('v=spf1 ip4:192.0.2.1 mx:big.test -all') },
      'big.test': { MX: mxes(11) },
    };
    const r = await checkHost(stubDns(zone), { ip: '198.51.100.7', sender: 'a@example.test', helo: 'h', now: 0 });
    assert.equal(r.result, 'permerror');
    assert.match(r.reason ?? '', /more than 10/);
  });
});

describe('one term evaluation for the audit and check_host', () => {
  // A client no term matches makes check_host walk every term, as the audit does: both must count
  // the same lookups and void lookups, through the same code (terms.ts).
  const zone: StubZone = {
    'example.test': {
      TXT: txt('v=spf1 a mx:mail.example.test include:_s.example.test exists:e.example.test a:one.example.test ~all'),
      A: ['192.0.2.10'],
      AAAA: ['2001:db8::10'],
    },
    'mail.example.test': { MX: [{ preference: 10, exchange: 'mx.example.test' }] },
    'mx.example.test': { A: ['192.0.2.20'], AAAA: ['2001:db8::20'] },
    '_s.example.test': { TXT: txt('v=spf1 a:one.example.test mx:nomx.example.test -all') },
    'nomx.example.test': { A: ['192.0.2.30'] },
    'one.example.test': { A: ['192.0.2.40'], AAAA: ['2001:db8::40'] },
  };

  it('counts the same lookups and void lookups as check_host for a client that matches nothing', async () => {
    const audit = await fetchSpf(stubDns(zone), 'example.test', true);
    for (const ip of ['198.51.100.9', '2001:db8:ffff::9']) {
      const r = await checkHost(stubDns(zone), { ip, sender: 'x@example.test', helo: 'h', now: 0 });
      assert.equal(r.result, 'softfail', ip);
      assert.equal(r.lookups, audit.lookups, `${ip}: lookups`);
      assert.equal(r.voidLookups, audit.voidLookups, `${ip}: void lookups`);
    }
    assert.equal(audit.lookups, 7);
    // e (NXDOMAIN) and nomx (no MX records): two void terms, the most RFC 7208 4.6.4 allows.
    assert.deepEqual(audit.voidTerms.sort(), ['exists:e.example.test', 'mx:nomx.example.test']);
  });
});

describe('SPF parser', () => {
  it('accepts what RFC 7208 section 12 allows', () => {
    for (const r of [
      'v=spf1',
      'v=spf1 -all',
      'V=SPF1 MX -ALL',
      'v=spf1 a/24//64 mx:mail.example.com/28 ip6:2001:db8::/32 ip4:192.0.2.0/24 ~all',
      'v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all',
      'v=spf1 include:_spf.google.com unknown-mod=foo exp=explain.%{d} ?all',
    ]) {
      assert.ok(parseSpf(r).ok, r);
    }
  });

  it('rejects what it does not allow, saying why', () => {
    for (const r of [
      'v=spf1 foo',
      'v=spf1 ip4:1.2.3.4/33',
      'v=spf1 ip6:::1/129',
      'v=spf1 a:example.com/-1',
      'v=spf1 include:',
      'v=spf1 redirect=a.example.com redirect=b.example.com',
      'v=spf1 exists:%{x}.example.com',
      'v=spf1 all:foo',
      'v=spf1 -all\u00e9',
    ]) {
      const p = parseSpf(r);
      assert.equal(p.ok, false, r);
      assert.ok(!p.ok && p.error.length > 5);
    }
  });
});
