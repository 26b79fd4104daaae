/**
 * The private-address guard (CONTRACT.md section 5), with a connector that records what the
 * audit asks for and never opens a socket to anything outside this machine.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  auditDomain,
  type Connector,
  type DnsAnswer,
  type DnsClient,
  GuardError,
  type RecordOf,
  type RRType,
} from '../src/index.js';
import { reservedRange, tunnelledIpv4 } from '../src/net/address.js';
import { guardedConnect } from '../src/net/connect.js';
import { mx, stubDns, txt } from './helpers/stub-dns.js';

/** Records every connection asked for; refuses them all, so nothing leaves the machine. */
function recorder(): Connector & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async connect(address, port) {
      asked.push(`${address}:${port}`);
      throw Object.assign(new Error('connection refused (recorder)'), { code: 'ECONNREFUSED' });
    },
  };
}

const RESERVED = [
  ['127.0.0.1', 'loopback'],
  ['10.1.2.3', 'RFC 1918'],
  ['172.16.5.4', 'RFC 1918'],
  ['192.168.1.1', 'RFC 1918'],
  ['100.64.0.1', 'CGNAT'],
  ['169.254.169.254', 'link-local'],
  ['224.0.0.251', 'multicast'],
  ['192.0.2.10', 'documentation'],
  ['198.51.100.10', 'documentation'],
  ['203.0.113.10', 'documentation'],
  ['0.0.0.0', '0/8'],
  ['::1', 'IPv6 loopback'],
  ['fd00::25', 'IPv6 ULA'],
  ['fe80::1', 'IPv6 link-local'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['64:ff9b::7f00:1', 'NAT64 of 127.0.0.1'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254'],
  ['64:ff9b::c0a8:101', 'NAT64 of 192.168.1.1'],
  ['64:ff9b:1:7f00:0:100::', 'local-use NAT64 (/48) of 127.0.0.1'],
  ['64:ff9b:1::808:808', 'local-use NAT64, public IPv4 inside'],
  ['2002:7f00:1::1', '6to4 of 127.0.0.1'],
  ['2002:a00:1::25', '6to4 of 10.0.0.1'],
  ['2002:808:808::1', '6to4, public IPv4 inside'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo, client 127.0.0.1'],
  ['2001:0:7f00:1::1', 'Teredo, server 127.0.0.1'],
] as const;

function domainWithMxAt(address: string) {
  const v6 = address.includes(':');
  return stubDns({
    'example.com': { MX: mx([10, 'mx.example.com']), TXT: txt('v=spf1 mx -all') },
    'mx.example.com': v6 ? { AAAA: [address] } : { A: [address] },
    'mta-sts.example.com': v6 ? { AAAA: [address] } : { A: [address] },
    '_mta-sts.example.com': { TXT: txt('v=STSv1; id=1') },
    'imap.example.com': v6 ? { AAAA: [address] } : { A: [address] },
  });
}

const options = { timeoutMs: 5000, ipBlocklists: ['bl.example'], domainBlocklists: [], dkimSelectors: ['s1'] };

describe('private-address guard', () => {
  for (const [address, label] of RESERVED) {
    it(`never connects to ${address} (${label}) without --allow-private-targets`, async () => {
      const connector = recorder();
      const dns = domainWithMxAt(address);
      const r = await auditDomain('example.com', options, { dns, now: () => new Date(), connector, probeCache: null });
      assert.deepEqual(connector.asked, []);
      assert.ok(r.findings.some((f) => f.code === 'mx.private_address' && f.subject === 'mx.example.com'));
      assert.ok(r.findings.some((f) => f.code === 'mta_sts.policy.unreachable'));
      // No PTR or blocklist lookups for it either.
      assert.ok(
        !dns.asked.some((q) => q.includes('in-addr.arpa') || q.includes('ip6.arpa') || q.includes('bl.example')),
        dns.asked.join(', '),
      );
    });
  }

  it('flags an implicit MX (no MX, an A at loopback) as mx.private_address, and connects to nothing', async () => {
    const connector = recorder();
    const dns = stubDns({ 'example.com': { A: ['127.0.0.1'], TXT: txt('v=spf1 a -all') } });
    const r = await auditDomain('example.com', options, { dns, now: () => new Date(), connector, probeCache: null });
    assert.deepEqual(connector.asked, []);
    assert.ok(r.findings.some((f) => f.code === 'mx.implicit'));
    const flagged = r.findings.find((f) => f.code === 'mx.private_address');
    assert.equal(flagged?.subject, 'example.com');
    assert.deepEqual(flagged?.params.addresses, ['127.0.0.1']);
    const allowed = await auditDomain(
      'example.com',
      { ...options, allowPrivateTargets: true },
      { dns, now: () => new Date(), connector, probeCache: null },
    );
    assert.ok(!allowed.findings.some((f) => f.code === 'mx.private_address'));
  });

  it('connects to the same address with --allow-private-targets', async () => {
    const connector = recorder();
    await auditDomain(
      'example.com',
      { ...options, allowPrivateTargets: true },
      { dns: domainWithMxAt('10.1.2.3'), now: () => new Date(), connector, probeCache: null },
    );
    assert.ok(connector.asked.includes('10.1.2.3:25'));
  });

  it('uses the address it checked: an MX resolving public once and private the next time gets only the public one', async () => {
    const base = stubDns({ 'example.com': { MX: mx([10, 'rebind.example.com']), TXT: txt('v=spf1 mx -all') } });
    let asked = 0;
    const dns: DnsClient = {
      async query<T extends RRType>(name: string, type: T, o?: { cd?: boolean }): Promise<DnsAnswer<T>> {
        if (name === 'rebind.example.com' && type === 'A') {
          asked++;
          const address = asked === 1 ? '203.0.114.25' : '127.0.0.1';
          return { name, type, status: 'ok', records: [address] as RecordOf<T>[], cnames: [], ad: false, rcode: 0 };
        }
        return base.query(name, type, o);
      },
    };
    const connector = recorder();
    await auditDomain('example.com', options, { dns, now: () => new Date(), connector, probeCache: null });
    assert.equal(asked, 1, 'the name is resolved once per audit');
    assert.ok(connector.asked.length > 0);
    assert.ok(
      connector.asked.every((a) => a.startsWith('203.0.114.25:')),
      connector.asked.join(', '),
    );
  });
});

describe('addresses that carry an IPv4 address (RFC 6052, RFC 3056, RFC 4380)', () => {
  it('finds the IPv4 address inside NAT64, local-use NAT64, 6to4 and Teredo addresses', () => {
    assert.deepEqual(tunnelledIpv4('64:ff9b::7f00:1'), { form: 'NAT64', ipv4: ['127.0.0.1'] });
    assert.deepEqual(tunnelledIpv4('64:ff9b::127.0.0.1'), { form: 'NAT64', ipv4: ['127.0.0.1'] });
    assert.deepEqual(tunnelledIpv4('64:ff9b:1:c0a8:1:100::'), { form: 'local-use NAT64', ipv4: ['192.168.1.1'] });
    assert.deepEqual(tunnelledIpv4('2002:c0a8:101::1'), { form: '6to4', ipv4: ['192.168.1.1'] });
    // RFC 4380 4's example: server 65.54.227.120, client 192.0.2.45 (its complement 3fff:fdd2).
    assert.deepEqual(tunnelledIpv4('2001:0:4136:e378:8000:63bf:3fff:fdd2'), {
      form: 'Teredo',
      ipv4: ['65.54.227.120', '192.0.2.45'],
    });
    assert.equal(tunnelledIpv4('2a00:1450::1'), undefined);
  });

  it('judges a NAT64 address by the IPv4 address it carries', () => {
    assert.match(reservedRange('64:ff9b::7f00:1') ?? '', /NAT64 of 127\.0\.0\.1 \(loopback\)/);
    assert.match(reservedRange('64:ff9b::a00:1') ?? '', /NAT64 of 10\.0\.0\.1/);
    assert.match(reservedRange('64:ff9b::6440:1') ?? '', /CGNAT/);
    // The well-known prefix in front of a public address is a public address (RFC 6052 3.1).
    assert.equal(reservedRange('64:ff9b::808:808'), undefined);
    // The local-use prefix, 6to4 and Teredo are refused whatever they carry.
    assert.ok(reservedRange('64:ff9b:1::808:808'));
    assert.ok(reservedRange('2002:808:808::1'));
    assert.ok(reservedRange('2001:0:808:808::1'));
    assert.match(reservedRange('2002:7f00:1::1') ?? '', /6to4 of 127\.0\.0\.1/);
  });
});

describe('guard on the address actually connected to', () => {
  let server: ReturnType<typeof createServer>;
  let port = 0;
  before(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it('refuses a socket whose peer is not the address that was checked', async () => {
    // A connector that goes elsewhere than asked (as a resolving library or a hostile route could).
    const misrouting: Connector = {
      connect: () =>
        new Promise<Socket>((resolve, reject) => {
          const s = tcpConnect({ host: '127.0.0.1', port }, () => resolve(s));
          s.on('error', reject);
        }),
    };
    await assert.rejects(guardedConnect(misrouting, '203.0.114.9', 25, 1000, false), GuardError);
    await assert.rejects(guardedConnect(misrouting, '203.0.114.9', 25, 1000, true), GuardError);
  });

  it('accepts the peer it checked', async () => {
    const direct: Connector = {
      connect: () =>
        new Promise<Socket>((resolve, reject) => {
          const s = tcpConnect({ host: '127.0.0.1', port }, () => resolve(s));
          s.on('error', reject);
        }),
    };
    const s = await guardedConnect(direct, '127.0.0.1', port, 1000, true);
    assert.equal(s.remoteAddress, '127.0.0.1');
    s.destroy();
  });
});
