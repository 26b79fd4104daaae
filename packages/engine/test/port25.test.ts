/**
 * `smtp.unreachable` only for what the servers did: the rule that tells a port-25 result the
 * server gave (accepted, refused, a timeout while this machine's outbound port 25 is proven) from
 * one that shows nothing about it (a timeout with port 25 unproven here, our deadline, our wait
 * for a connection slot, an error here), the egress witness, and whole audits through a connector
 * that fails the way a blocked network or a dropping server does.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { auditDomain } from '../src/audit.js';
import type { Connector } from '../src/net/connect.js';
import { NetTimeout } from '../src/net/connect.js';
import { EgressWitness } from '../src/probes/egress.js';
import { evaluateTransport, port25Seen, port25Verdict } from '../src/probes/evaluate.js';
import { AddressLimiter } from '../src/probes/limits.js';
import type { PortProbe, PortResult } from '../src/probes/types.js';
import { outcomeOf, rescore, score } from '../src/scoring.js';
import { CATEGORY_IDS, type Finding, type Report } from '../src/types.js';
import { mx, stubDns, txt } from './helpers/stub-dns.js';

const T0 = Date.parse('2026-12-03T03:00:00Z');

function r25(address: string, state: PortResult['state'], extra: Partial<PortResult> = {}): PortResult {
  return {
    host: 'mx.example.com',
    names: ['mx.example.com'],
    address,
    port: 25,
    protocol: 'smtp',
    tlsMode: 'starttls',
    state,
    ...extra,
  };
}
const probe = (result: PortResult): PortProbe => ({ result, served: [] });

describe('what one port-25 result shows of the server', () => {
  const cases: [string, PortResult, ReturnType<typeof port25Seen>][] = [
    ['accepted', r25('192.0.2.1', 'open'), { seen: 'accepts' }],
    ['refused (RST)', r25('192.0.2.1', 'closed'), { seen: 'does_not_accept' }],
    [
      'a timeout with port 25 unproven here',
      r25('192.0.2.1', 'timeout'),
      { seen: 'nothing', reason: 'probe.egress_unproven' },
    ],
    [
      'a timeout while port 25 is proven here',
      r25('192.0.2.1', 'timeout', { egressSeenAt: new Date(T0).toISOString() }),
      { seen: 'does_not_accept' },
    ],
    [
      'a timeout the deadline cut, port 25 proven or not',
      r25('192.0.2.1', 'timeout', { cut: 'deadline', egressSeenAt: new Date(T0).toISOString() }),
      { seen: 'nothing', reason: 'probe.deadline' },
    ],
    [
      'no time left to start',
      r25('192.0.2.1', 'skipped', { cut: 'deadline' }),
      { seen: 'nothing', reason: 'probe.deadline' },
    ],
    [
      'the time went in the wait for a slot',
      r25('192.0.2.1', 'skipped', { cut: 'wait' }),
      { seen: 'nothing', reason: 'probe.wait' },
    ],
    [
      'an error here',
      r25('192.0.2.1', 'error', { errorCode: 'EADDRNOTAVAIL' }),
      { seen: 'nothing', reason: 'probe.local_error', code: 'EADDRNOTAVAIL' },
    ],
    [
      'refused by our guard',
      r25('192.0.2.1', 'guarded', { errorCode: 'EGUARD' }),
      { seen: 'nothing', reason: 'probe.local_error', code: 'EGUARD' },
    ],
  ];
  for (const [name, result, want] of cases) it(name, () => assert.deepEqual(port25Seen(result), want));
});

describe('the port-25 verdict of a domain', () => {
  const proven = { egressSeenAt: new Date(T0).toISOString() };
  it('one address accepting is enough: no finding', () => {
    const v = port25Verdict([r25('192.0.2.1', 'timeout'), r25('192.0.2.2', 'open')]);
    assert.deepEqual([v.unreachable, v.notChecked], [false, undefined]);
  });
  it('every address refusing, or timing out while port 25 is proven here: unreachable', () => {
    const v = port25Verdict([r25('192.0.2.1', 'closed'), r25('192.0.2.2', 'timeout', proven)]);
    assert.deepEqual([v.unreachable, v.notChecked], [true, undefined]);
  });
  it('one refusing and one that showed nothing: could not check (it may accept)', () => {
    const v = port25Verdict([r25('192.0.2.1', 'closed'), r25('192.0.2.2', 'error', { errorCode: 'ENETUNREACH' })]);
    assert.deepEqual([v.unreachable, v.notChecked], [false, { reason: 'probe.local_error', code: 'ENETUNREACH' }]);
  });
  it('only the other ports in the results: nothing to say', () => {
    const v = port25Verdict([{ ...r25('192.0.2.1', 'closed'), port: 587 }]);
    assert.deepEqual([v.unreachable, v.notChecked], [false, undefined]);
  });
  it('findings: smtp.unreachable, or smtp.not_checked with its reason and every address', () => {
    const bad = evaluateTransport('example.com', [probe(r25('192.0.2.1', 'closed'))], []);
    assert.deepEqual(
      bad.map((f) => [f.code, f.severity, f.category]),
      [['smtp.unreachable', 'critical', 'transport']],
    );
    const unknown = evaluateTransport(
      'example.com',
      [probe(r25('192.0.2.1', 'timeout')), probe(r25('192.0.2.2', 'closed'))],
      [],
    );
    assert.deepEqual(
      unknown.map((f) => [f.code, f.severity, f.category]),
      [['smtp.not_checked', 'info', 'transport']],
    );
    assert.deepEqual(unknown[0]?.params, {
      reason: 'probe.egress_unproven',
      addresses: [
        { address: '192.0.2.1', state: 'timeout', reason: 'probe.egress_unproven' },
        { address: '192.0.2.2', state: 'closed' },
      ],
    });
  });
});

/** Waits (at most 5 s) for what another thread's message brings: delivery is asynchronous. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the egress witness', () => {
  it('a success is evidence for other addresses of its family, within the window', () => {
    const w = new EgressWitness({ windowMs: 60_000 });
    w.saw('192.0.2.1', T0);
    assert.equal(w.evidence('192.0.2.1', T0), undefined, 'not for the address itself');
    assert.equal(w.evidence('192.0.2.2', T0 + 1000), T0);
    assert.equal(w.evidence('2001:db8::1', T0 + 1000), undefined, 'IPv4 proves nothing of IPv6');
    assert.equal(w.evidence('192.0.2.2', T0 + 60_001), undefined, 'too old');
    w.saw('2001:db8::2', T0 + 2000);
    assert.equal(w.evidence('2001:db8::1', T0 + 3000), T0 + 2000);
  });

  it('notes port-25 successes, and gives a timeout the evidence seen so far unless our deadline cut it', () => {
    const w = new EgressWitness();
    const early = r25('192.0.2.9', 'timeout');
    w.note(early, T0);
    assert.equal(early.egressSeenAt, undefined);
    w.note({ ...r25('192.0.2.1', 'open'), port: 587 }, T0);
    w.note(r25('192.0.2.9', 'timeout'), T0);
    assert.equal(w.evidence('192.0.2.9', T0), undefined, 'port 587 is not port 25');
    w.note(r25('192.0.2.1', 'open'), T0 + 10);
    const late = r25('192.0.2.9', 'timeout');
    w.note(late, T0 + 20);
    assert.equal(late.egressSeenAt, new Date(T0 + 10).toISOString());
    const cut = r25('192.0.2.9', 'timeout', { cut: 'deadline' });
    w.note(cut, T0 + 20);
    assert.equal(cut.egressSeenAt, undefined);
  });

  it('tells the witnesses of the other threads on its channel, each address once a minute', async () => {
    const name = `test:egress:${process.pid}:${Date.now()}`;
    const [w1, w2] = [new EgressWitness({ channel: name }), new EgressWitness({ channel: name })];
    const heard: number[] = [];
    const spy = new BroadcastChannel(name);
    spy.onmessage = (e) => heard.push((e as { data: { at: number } }).data.at);
    try {
      w1.note(r25('192.0.2.1', 'open'), T0);
      w1.note(r25('192.0.2.1', 'open'), T0 + 1000);
      w1.note(r25('192.0.2.1', 'closed'), T0 + 2000);
      await until(() => w2.evidence('192.0.2.9', T0 + 3000) !== undefined && heard.length > 0);
      assert.equal(w2.evidence('192.0.2.9', T0 + 3000), T0);
      assert.deepEqual(heard, [T0], 'one message for two successes within a minute, none for a refusal');
      w1.note(r25('192.0.2.1', 'open'), T0 + 61_000);
      await until(() => heard.length === 2 && w2.evidence('192.0.2.9', T0 + 61_000) === T0 + 61_000);
      assert.equal(w2.evidence('192.0.2.9', T0 + 61_000), T0 + 61_000);
      // What is heard is not told again, and an older success does not replace a newer one.
      w2.saw('192.0.2.1', T0);
      assert.equal(w2.evidence('192.0.2.9', T0 + 61_000), T0 + 61_000);
      assert.deepEqual(heard, [T0, T0 + 61_000]);
    } finally {
      w1.close();
      w2.close();
      spy.close();
    }
  });

  it('keeps the newest addresses only', () => {
    const w = new EgressWitness({ maxAddresses: 2 });
    w.saw('192.0.2.1', T0);
    w.saw('192.0.2.2', T0 + 1);
    w.saw('192.0.2.3', T0 + 2);
    assert.equal(w.evidence('192.0.2.3', T0 + 3), T0 + 1);
    assert.equal(w.evidence('192.0.2.2', T0 + 3), T0 + 2);
  });
});

describe('scoring and outcome of a report whose port 25 could not be checked', () => {
  const f = (code: string, severity: Finding['severity'], category: Finding['category']): Finding => ({
    code,
    severity,
    category,
    subject: 'example.com',
    message: '',
    params: {},
  });
  const inputs = CATEGORY_IDS.map((id) => ({
    id,
    condition: (id === 'transport' ? 'error' : 'checked') as 'error' | 'checked',
  }));

  it('transport is left out of the score and the report is partial, even beside a critical finding there', () => {
    const notChecked = f('smtp.not_checked', 'info', 'transport');
    const alone = score(inputs, [notChecked]);
    assert.equal(alone.score, 100);
    assert.deepEqual(alone.leftOut, ['transport']);
    assert.equal(alone.categories.find((c) => c.id === 'transport')?.status, 'error');
    assert.equal(outcomeOf(alone.categories, [notChecked]), 'partial');
    const withCritical = [notChecked, f('imap.plaintext_auth', 'critical', 'transport')];
    const both = score(inputs, withCritical);
    assert.equal(both.categories.find((c) => c.id === 'transport')?.status, 'fail');
    assert.equal(outcomeOf(both.categories, withCritical), 'partial');
  });

  it('scored again from the stored report: transport still not checked', () => {
    const findings = [f('smtp.not_checked', 'info', 'transport'), f('imap.plaintext_auth', 'critical', 'transport')];
    const { categories } = score(inputs, findings);
    const again = rescore({ categories, findings, score: 69, grade: 'D', scoringVersion: 2 });
    assert.deepEqual(again, { score: 69, grade: 'D' });
  });
});

// Whole audits of a domain with one MX address, through a connector that stands in for the network.
const zone = {
  'example.com': { MX: mx([10, 'mx.example.com']), TXT: txt('v=spf1 mx -all') },
  'mx.example.com': { A: ['192.0.2.25'] },
  '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@example.com') },
  's1._domainkey.example.com': { TXT: txt('v=DKIM1; p=') },
};
const options = { allowPrivateTargets: true, ipBlocklists: [], domainBlocklists: [], dkimSelectors: ['s1'] };
const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

/** Port 25 fails as `port25` says; every other port refuses. */
function network(port25: 'timeout' | 'refused' | string): Connector {
  return {
    connect(address, port, timeoutMs) {
      return new Promise<Socket>((_, reject) => {
        if (port !== 25 || port25 === 'refused') return reject(errno('ECONNREFUSED'));
        // A dropped SYN: no answer within the step's timeout (shortened: the test need not wait 5 s).
        if (port25 === 'timeout')
          return void setTimeout(
            () => reject(new NetTimeout(`no TCP connection to ${address}:25`)),
            Math.min(timeoutMs, 50),
          );
        reject(errno(port25));
      });
    },
  };
}

const transport = (r: Report) => r.categories.find((c) => c.id === 'transport');
const codes = (r: Report) => r.findings.map((x) => x.code);

describe('audits whose port 25 fails', () => {
  const audit = (connector: Connector, egress: EgressWitness, extra: object = {}) =>
    auditDomain(
      'example.com',
      { ...options, ...extra },
      { dns: stubDns(zone, { ad: true }), now: () => new Date(), connector, egress, probeCache: null },
    );

  it('every connection times out on a machine that has not reached port 25 elsewhere: could not check', async () => {
    const r = await audit(network('timeout'), new EgressWitness());
    assert.ok(!codes(r).includes('smtp.unreachable'), codes(r).join());
    const nc = r.findings.find((x) => x.code === 'smtp.not_checked');
    assert.equal(nc?.params.reason, 'probe.egress_unproven');
    assert.deepEqual([transport(r)?.status, transport(r)?.score], ['error', null]);
    assert.equal(r.outcome, 'partial');
    assert.deepEqual((r.evidence.scoring as { leftOut: string[] }).leftOut, ['transport']);
  });

  it('the same once this process saw port 25 of another address accept: unreachable', async () => {
    const egress = new EgressWitness();
    egress.saw('192.0.2.99', Date.now());
    const r = await audit(network('timeout'), egress);
    assert.ok(codes(r).includes('smtp.unreachable'), codes(r).join());
    assert.ok(!codes(r).includes('smtp.not_checked'));
    assert.equal(transport(r)?.status, 'fail');
    assert.equal(r.outcome, 'complete');
  });

  it('refused: unreachable, whatever the witness knows', async () => {
    const r = await audit(network('refused'), new EgressWitness());
    assert.ok(codes(r).includes('smtp.unreachable'));
  });

  for (const code of ['EADDRNOTAVAIL', 'ENETUNREACH', 'EPERM']) {
    it(`${code} here: could not check, naming the error`, async () => {
      const egress = new EgressWitness();
      egress.saw('192.0.2.99', Date.now());
      const r = await audit(network(code), egress);
      assert.ok(!codes(r).includes('smtp.unreachable'));
      const nc = r.findings.find((x) => x.code === 'smtp.not_checked');
      assert.deepEqual([nc?.params.reason, nc?.params.code], ['probe.local_error', code]);
    });
  }

  it("the audit's deadline cuts the connection short: could not check, even with port 25 proven", async () => {
    const egress = new EgressWitness();
    egress.saw('192.0.2.99', Date.now());
    const r = await audit(network('timeout'), egress, { timeoutMs: 1200 });
    assert.ok(!codes(r).includes('smtp.unreachable'), codes(r).join());
    assert.equal(r.findings.find((x) => x.code === 'smtp.not_checked')?.params.reason, 'probe.deadline');
  });

  it('the time goes in waiting for a connection slot at the address: could not check (wait)', async () => {
    const egress = new EgressWitness();
    egress.saw('192.0.2.99', Date.now());
    const limiter = new AddressLimiter(1);
    // Another audit holds the address's only slot past this audit's deadline.
    const held = limiter.run('192.0.2.25', () => new Promise((r) => setTimeout(r, 2500)));
    const r = await auditDomain(
      'example.com',
      { ...options, timeoutMs: 2000 },
      {
        dns: stubDns(zone, { ad: true }),
        now: () => new Date(),
        connector: network('refused'),
        egress,
        probeCache: null,
        limiter,
      },
    );
    await held;
    assert.ok(!codes(r).includes('smtp.unreachable'), codes(r).join());
    assert.equal(r.findings.find((x) => x.code === 'smtp.not_checked')?.params.reason, 'probe.wait');
  });
});
