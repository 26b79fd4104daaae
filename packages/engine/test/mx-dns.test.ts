/**
 * MX, PTR, DNSSEC and blocklist checks with stubbed DNS, and the address classifier.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dnsblQueryName,
  evaluateBlocklists,
  fetchBlocklists,
  interpretAnswer,
} from '../src/checks/blocklists/index.js';
import { evaluateDnssec, fetchDnssec, findBogus } from '../src/checks/dnssec/index.js';
import { evaluateMx, fetchMx, mailHosts } from '../src/checks/mx/index.js';
import { evaluatePtr, fetchPtr } from '../src/checks/ptr/index.js';
import { AuditDns } from '../src/dns/audit-dns.js';
import { embeddedIpv4, reservedRange, reverseName } from '../src/net/address.js';
import { mx, type StubZone, stubDns, txt } from './helpers/stub-dns.js';

async function mxFindings(zone: StubZone, allowPrivateTargets = false) {
  const dns = stubDns(zone);
  const answer = await dns.query('example.com', 'MX');
  const input = await fetchMx(dns, 'example.com', answer, allowPrivateTargets);
  return { findings: evaluateMx(input), hosts: mailHosts(input) };
}
const pairs = (fs: { code: string; subject: string }[]) => fs.map((f) => [f.code, f.subject]);

describe('MX', () => {
  it('null MX, missing, implicit', async () => {
    assert.deepEqual(pairs((await mxFindings({ 'example.com': { MX: mx([0, '']) } })).findings), [
      ['mx.null', 'example.com'],
    ]);
    assert.deepEqual(pairs((await mxFindings({ 'example.com': { TXT: [] } })).findings), [
      ['mx.missing', 'example.com'],
    ]);
    const implicit = await mxFindings({ 'example.com': { A: ['203.0.114.10'] } });
    assert.deepEqual(pairs(implicit.findings), [['mx.implicit', 'example.com']]);
    assert.deepEqual(implicit.hosts[0]?.usable, ['203.0.114.10']);
  });

  it('unresolvable, CNAME and IP-literal targets', async () => {
    const { findings } = await mxFindings({
      'example.com': {
        MX: mx([10, 'gone.example.com'], [20, 'alias.example.com'], [30, '192.0.2.7'], [40, 'mx.example.com']),
      },
      'alias.example.com': { CNAME: ['mx.example.com'] },
      'mx.example.com': { A: ['203.0.114.25'] },
    });
    assert.deepEqual(pairs(findings).sort(), [
      ['mx.cname', 'alias.example.com'],
      ['mx.host_unresolvable', '192.0.2.7'],
      ['mx.host_unresolvable', 'gone.example.com'],
      ['mx.ip_literal', '192.0.2.7'],
    ]);
  });

  it('a target whose lookup failed is not called unresolvable', async () => {
    const { findings } = await mxFindings({
      'example.com': { MX: mx([10, 'mx.example.com']) },
      'mx.example.com': { fail: 'timeout' },
    });
    assert.deepEqual(findings, []);
  });

  it('private addresses: flagged and unusable by default, neither with --allow-private-targets', async () => {
    const zone: StubZone = {
      'example.com': { MX: mx([10, 'mx.example.com'], [20, 'mixed.example.com']) },
      'mx.example.com': { A: ['10.1.2.3'], AAAA: ['fd00::25'] },
      'mixed.example.com': { A: ['192.168.1.1', '198.51.100.20', '203.0.114.9'] },
    };
    const strict = await mxFindings(zone);
    assert.deepEqual(pairs(strict.findings), [['mx.private_address', 'mx.example.com']]);
    assert.deepEqual(
      strict.hosts.map((h) => h.usable),
      [[], ['203.0.114.9']],
    );
    const lax = await mxFindings(zone, true);
    assert.deepEqual(lax.findings, []);
    assert.equal(lax.hosts[0]?.usable.length, 2);
  });
});

describe('PTR', () => {
  const hosts = [
    {
      name: 'mx.example.com',
      source: 'mx' as const,
      preference: 10,
      addresses: [],
      usable: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::25'],
    },
  ];
  it('missing, mismatch, confirmed (IPv4 and IPv6)', async () => {
    const dns = stubDns({
      [reverseName('192.0.2.2')]: { PTR: ['elsewhere.example.com'] },
      'elsewhere.example.com': { A: ['192.0.2.99'] },
      [reverseName('192.0.2.3')]: { PTR: ['mx.example.com'] },
      [reverseName('2001:db8::25')]: { PTR: ['mx.example.com'] },
      'mx.example.com': { A: ['192.0.2.3'], AAAA: ['2001:db8:0:0::25'] },
    });
    const f = evaluatePtr(await fetchPtr(dns, hosts));
    assert.deepEqual(pairs(f), [
      ['ptr.missing', '192.0.2.1'],
      ['ptr.mismatch', '192.0.2.2'],
    ]);
  });
});

describe('DNSSEC', () => {
  it('secure when answers are validated; unsigned when a validated DS denial proves it', async () => {
    const secure = await fetchDnssec(stubDns({}), 'example.com', {
      name: 'example.com',
      type: 'MX',
      status: 'ok',
      records: [],
      cnames: [],
      ad: true,
      rcode: 0,
    });
    assert.equal(secure.state, 'secure');
    const dns = stubDns({ 'example.com': { ad: true, A: ['192.0.2.1'] } });
    const answer = {
      name: 'example.com',
      type: 'MX' as const,
      status: 'nodata' as const,
      records: [],
      cnames: [],
      ad: false,
      rcode: 0,
    };
    const insecure = await fetchDnssec(dns, 'example.com', answer);
    assert.deepEqual([insecure.state, insecure.provenAt], ['insecure', 'example.com']);
    assert.deepEqual(pairs(evaluateDnssec(insecure)), [['dnssec.unsigned', 'example.com']]);
    const unvalidated = await fetchDnssec(stubDns({ 'example.com': { A: ['192.0.2.1'] } }), 'example.com', answer);
    assert.equal(unvalidated.state, 'unknown');
  });

  it('bogus: SERVFAIL that a CD query answers; a plain SERVFAIL is not bogus', async () => {
    const dns = new AuditDns(
      stubDns({
        'example.com': { TXT: [{ strings: ['v=spf1 -all'], text: 'v=spf1 -all' }], fail: 'servfail' },
        'lame.example.com': { fail: 'servfail' },
      }),
    );
    await dns.query('spf', 'example.com', 'TXT');
    await dns.query('spf', 'lame.example.com', 'TXT');
    const bogus = await findBogus(dns.for('dnssec'), 'example.com', dns.log);
    assert.deepEqual(bogus, [
      { name: 'example.com', type: 'TXT', status: 'ok', records: txt('v=spf1 -all'), validated: false },
    ]);
    const dns2 = new AuditDns(stubDns({ 'lame.example.com': { fail: 'servfail' } }));
    await dns2.query('spf', 'lame.example.com', 'TXT');
    assert.deepEqual(await findBogus(dns2.for('dnssec'), 'example.com', dns2.log), []);
  });
});

describe('blocklists', () => {
  it('forms query names for IPv4, IPv6 and domains (RFC 5782 2.1, 2.4)', () => {
    assert.equal(dnsblQueryName('192.0.2.99', 'zen.example'), '99.2.0.192.zen.example');
    assert.equal(
      dnsblQueryName('2001:db8::1', 'v6.example'),
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.v6.example',
    );
    assert.equal(dnsblQueryName('example.com', 'dbl.example'), 'example.com.dbl.example');
  });

  it('reads 127.0.0.x as listed and the error codes as refused, never listed', () => {
    assert.equal(interpretAnswer('127.0.0.2'), 'listed');
    assert.equal(interpretAnswer('127.0.1.2'), 'listed');
    for (const a of ['127.255.255.252', '127.255.255.254', '127.255.255.255', '127.0.0.1', '10.0.0.1'])
      assert.equal(interpretAnswer(a), 'refused', a);
  });

  it('reports listings with zone, address, answer and reason; refusals as info', async () => {
    const dns = stubDns({
      '2.2.0.192.bl.example': { A: ['127.0.0.2'], TXT: [{ strings: ['spam source'], text: 'spam source' }] },
      '3.2.0.192.bl.example': { A: ['127.255.255.254'] },
      'example.com.dbl.example': { A: ['127.0.1.2'] },
    });
    const entries = await fetchBlocklists(
      dns,
      'example.com',
      ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
      ['bl.example'],
      ['dbl.example'],
    );
    const f = evaluateBlocklists(entries);
    assert.deepEqual(pairs(f), [
      ['blocklist.ip.listed', '192.0.2.2'],
      ['blocklist.query.refused', 'bl.example:192.0.2.3'],
      ['blocklist.domain.listed', 'example.com'],
    ]);
    assert.deepEqual(
      [f[0]?.params.zone, f[0]?.params.address, f[0]?.params.answer, f[0]?.params.reason],
      ['bl.example', '192.0.2.2', '127.0.0.2', 'spam source'],
    );
    assert.equal(f[1]?.severity, 'info');
  });
});

describe('address classification', () => {
  it('knows the reserved ranges, including IPv4-mapped IPv6', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.1',
      '169.254.1.1',
      '224.0.0.1',
      '0.1.2.3',
      '192.0.2.1',
      '198.51.100.1',
      '203.0.113.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd12::1',
      'ff02::1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
    ]) {
      assert.ok(reservedRange(a), `${a} is reserved`);
    }
    for (const a of ['8.8.8.8', '203.0.114.1', '2a00:1450:4001::1', '::ffff:8.8.8.8'])
      assert.equal(reservedRange(a), undefined, a);
    assert.equal(embeddedIpv4('::ffff:7f00:1'), '127.0.0.1');
  });
});
