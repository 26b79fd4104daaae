/**
 * smtp.ipv6.unreachable from probe results: an MX host whose IPv4 addresses accept port 25 and
 * whose IPv6 ones do not. A refusal proves the address was reached; a time-out counts only when
 * another IPv6 address of the audit accepted (the auditing side's IPv6 works); a local error
 * (no route) never counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MailHost } from '../src/checks/mx/index.js';
import { evaluateIpv6Reachability } from '../src/probes/evaluate.js';
import type { PortResult } from '../src/probes/types.js';

const host = (name: string, ...usable: string[]): MailHost => ({
  name,
  source: 'mx',
  preference: 10,
  addresses: usable,
  usable,
});
const r = (name: string, address: string, state: PortResult['state']): PortResult => ({
  host: name,
  names: [name],
  address,
  port: 25,
  protocol: 'smtp',
  tlsMode: 'starttls',
  state,
});

describe('smtp.ipv6.unreachable', () => {
  const mx = host('mx.example.com', '192.0.2.1', '2001:db8::1');
  it('reports an AAAA that refuses while the A accepts', () => {
    const f = evaluateIpv6Reachability(
      [mx],
      [r('mx.example.com', '192.0.2.1', 'open'), r('mx.example.com', '2001:db8::1', 'closed')],
    );
    assert.deepEqual(
      f.map((x) => [x.code, x.subject, x.severity]),
      [['smtp.ipv6.unreachable', 'mx.example.com', 'warning']],
    );
    assert.deepEqual(f[0]?.params.addresses, [{ address: '2001:db8::1', state: 'closed', error: undefined }]);
  });

  it('counts a time-out only when the audit reached another IPv6 address', () => {
    const other = host('mx2.example.com', '192.0.2.2', '2001:db8::2');
    const timedOut = [r('mx.example.com', '192.0.2.1', 'open'), r('mx.example.com', '2001:db8::1', 'timeout')];
    assert.deepEqual(evaluateIpv6Reachability([mx], timedOut), []);
    const withWorkingIpv6 = [
      ...timedOut,
      r('mx2.example.com', '192.0.2.2', 'open'),
      r('mx2.example.com', '2001:db8::2', 'open'),
    ];
    assert.deepEqual(
      evaluateIpv6Reachability([mx, other], withWorkingIpv6).map((x) => x.subject),
      ['mx.example.com'],
    );
  });

  it('says nothing for a local error, an IPv6 address that accepts, or an IPv4 side that does not', () => {
    assert.deepEqual(
      evaluateIpv6Reachability(
        [mx],
        [r('mx.example.com', '192.0.2.1', 'open'), r('mx.example.com', '2001:db8::1', 'error')],
      ),
      [],
    );
    assert.deepEqual(
      evaluateIpv6Reachability(
        [mx],
        [r('mx.example.com', '192.0.2.1', 'open'), r('mx.example.com', '2001:db8::1', 'open')],
      ),
      [],
    );
    assert.deepEqual(
      evaluateIpv6Reachability(
        [mx],
        [r('mx.example.com', '192.0.2.1', 'closed'), r('mx.example.com', '2001:db8::1', 'closed')],
      ),
      [],
    );
    // An IPv4-only host has nothing to compare.
    assert.deepEqual(
      evaluateIpv6Reachability([host('v4.example.com', '192.0.2.9')], [r('v4.example.com', '192.0.2.9', 'open')]),
      [],
    );
  });
});
