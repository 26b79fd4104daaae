/**
 * The lab's IPv6 hosts: every address in the lab's own unique-local /64 (never the machine's
 * fd00::/64, which routes off the machine), each shown local on `lo` by `ip -6 route get` before
 * anything here connects to it, and connections to them coming from the lab's client address, so
 * that Dovecot does not take the prober for a local, secured client.
 */
import assert from 'node:assert/strict';
import { connect, isIP } from 'node:net';
import { before, describe, it } from 'node:test';
import { CLIENT6_ADDRESS, ensureLab, LAB6_NET, type LabInfo, routesLocally } from '@mailaudit/lab';

let lab: LabInfo;

before(async () => {
  lab = await ensureLab();
});

const ipv6Hosts = () => lab.model.hosts.filter((h) => h.address6);

describe('lab IPv6', () => {
  it('puts IPv6 hosts in its own unique-local /64, derived from MAILAUDIT_LAB_NET', () => {
    assert.match(LAB6_NET, /^fd6d:6c61:6200:\d{1,3}$/);
    assert.ok(ipv6Hosts().length >= 4);
    for (const h of ipv6Hosts()) {
      assert.equal(isIP(h.address6 as string), 6);
      assert.ok(h.address6?.startsWith(`${LAB6_NET}::`), h.address6);
      assert.ok(!h.address6?.startsWith('fd00:'), h.address6);
    }
    assert.deepEqual(lab.state.ipv6?.slice().sort(), [CLIENT6_ADDRESS, ...ipv6Hosts().map((h) => h.address6)].sort());
  });

  it('routes every lab IPv6 address locally on lo (ip -6 route get)', () => {
    for (const a of lab.state.ipv6 ?? []) assert.ok(routesLocally(a), a);
    // The machine's own unique-local network is not local: it goes out through eth0.
    assert.equal(routesLocally('fd00::1'), false);
  });

  it('connects to a host over IPv6 from the client address, and Dovecot keeps LOGINDISABLED before TLS', async () => {
    const host = ipv6Hosts().find((h) => h.access === 'good' && h.ipv6 === 'serve');
    assert.ok(host?.address6);
    assert.ok(routesLocally(host.address6));
    const { local, greeting } = await new Promise<{ local: string; greeting: string }>((resolve, reject) => {
      const s = connect({ host: host.address6 as string, port: 143, family: 6 });
      let data = '';
      s.setTimeout(5000, () => s.destroy(new Error('no IMAP greeting')));
      s.on('data', (c: Buffer) => {
        data += c.toString('latin1');
        if (data.includes('\r\n')) {
          const l = s.localAddress ?? '';
          s.end('a LOGOUT\r\n');
          resolve({ local: l, greeting: data });
        }
      });
      s.on('error', reject);
    });
    assert.equal(local, CLIENT6_ADDRESS);
    assert.match(greeting, /LOGINDISABLED/);
  });
});
