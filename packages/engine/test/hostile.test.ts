/**
 * Hostile mail servers written in this test, on loopback addresses of the project's range: one
 * accepts and never speaks, one trickles a byte a second, one sends an endless line, one answers
 * TLS with garbage. Each audit must end by its deadline, with bounded memory and a finding.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { auditDomain, type Report } from '../src/index.js';
import { mx, stubDns, txt } from './helpers/stub-dns.js';

// The lab's /16 (MAILAUDIT_LAB_NET, as infra/lab reads it), so two checkouts can run this at once.
const NET = process.env.MAILAUDIT_LAB_NET || '127.20';
const HOSTS = {
  silent: `${NET}.250.1`,
  trickle: `${NET}.250.2`,
  endless: `${NET}.250.3`,
  garbage: `${NET}.250.4`,
} as const;

const servers: Server[] = [];
const sockets = new Set<Socket>();

function serve(address: string, port: number, onConnect: (s: Socket) => void): Promise<void> {
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnect(s);
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
}

before(async () => {
  await serve(HOSTS.silent, 25, () => {});
  await serve(HOSTS.trickle, 25, (s) => {
    const text = '220 slow.example ESMTP hello\r\n';
    let i = 0;
    const timer = setInterval(() => {
      if (s.destroyed || i >= text.length) return clearInterval(timer);
      s.write(text[i++] as string);
    }, 1000);
    s.on('close', () => clearInterval(timer));
  });
  await serve(HOSTS.endless, 25, (s) => {
    const chunk = Buffer.alloc(64 * 1024, 'A');
    const pump = () => {
      while (!s.destroyed && s.write(chunk)) {}
    };
    s.on('drain', pump);
    pump();
  });
  await serve(HOSTS.garbage, 25, (s) => {
    s.write('220 garbage.example ESMTP\r\n');
    s.on('data', (d: Buffer) => {
      const line = d.toString();
      if (/^EHLO/i.test(line)) s.write('250-garbage.example\r\n250 STARTTLS\r\n');
      else if (/^STARTTLS/i.test(line)) s.write('220 go ahead\r\n\x16\x03\x01\x00\x05garbagegarbagegarbage');
    });
  });
  await serve(HOSTS.garbage, 465, (s) => {
    s.write(Buffer.from('\x15\x03\x03\x00\x02\x02\x28not tls at all'));
    s.end();
  });
});

after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

const DEADLINE = 4000;

async function auditHostile(address: string): Promise<{ report: Report; ms: number; rssGrowth: number }> {
  const dns = stubDns({
    'hostile.example': { MX: mx([10, 'mx.hostile.example']), TXT: txt('v=spf1 mx -all') },
    'mx.hostile.example': { A: [address] },
  });
  const rss = process.memoryUsage().rss;
  const t0 = Date.now();
  const report = await auditDomain(
    'hostile.example',
    { allowPrivateTargets: true, timeoutMs: DEADLINE, ipBlocklists: [], domainBlocklists: [], dkimSelectors: ['s1'] },
    { dns, now: () => new Date(), probeCache: null },
  );
  return { report, ms: Date.now() - t0, rssGrowth: process.memoryUsage().rss - rss };
}

const at25 = (r: Report, code: string, host = 'mx.hostile.example:25') =>
  r.findings.some((f) => f.code === code && f.subject === host);

describe('hostile mail servers', () => {
  it('a server that accepts and never speaks: unresponsive, within the deadline', async () => {
    const { report, ms } = await auditHostile(HOSTS.silent);
    assert.ok(at25(report, 'transport.unresponsive'), JSON.stringify(report.findings.map((f) => f.code)));
    assert.ok(!report.findings.some((f) => f.code === 'smtp.unreachable'), 'it did accept the connection');
    assert.ok(ms < DEADLINE + 1500, `took ${ms} ms`);
  });

  it('a server that trickles a byte a second: unresponsive, within the deadline', async () => {
    const { report, ms } = await auditHostile(HOSTS.trickle);
    assert.ok(at25(report, 'transport.unresponsive'));
    assert.ok(ms < DEADLINE + 1500, `took ${ms} ms`);
  });

  it('a server that sends an endless line: a protocol error, with bounded memory', async () => {
    const { report, ms, rssGrowth } = await auditHostile(HOSTS.endless);
    assert.ok(at25(report, 'transport.protocol_error'));
    assert.match(report.findings.find((f) => f.code === 'transport.protocol_error')?.message ?? '', /longer than/);
    assert.ok(ms < DEADLINE + 1500, `took ${ms} ms`);
    assert.ok(rssGrowth < 64 * 2 ** 20, `memory grew by ${rssGrowth} bytes`);
  });

  it('a server that answers TLS with garbage: the handshake failed, on STARTTLS and implicit TLS', async () => {
    const { report, ms } = await auditHostile(HOSTS.garbage);
    assert.ok(at25(report, 'tls.handshake.failed'), JSON.stringify(report.findings.map((f) => [f.code, f.subject])));
    assert.ok(at25(report, 'tls.handshake.failed', 'mx.hostile.example:465'));
    // Why, as a code and the TLS library's error code, never the library's English message.
    for (const f of report.findings.filter((x) => x.code === 'tls.handshake.failed')) {
      assert.ok(['tls.handshake_error', 'tls.handshake_timeout'].includes(String(f.params.reason)), f.subject);
      if (f.params.reason === 'tls.handshake_error') assert.match(String(f.params.code), /^[A-Z][A-Z0-9_/]+$/);
      assert.equal(f.params.error, undefined);
    }
    assert.ok(!report.findings.some((f) => f.code === 'smtp.starttls.missing'));
    assert.ok(ms < DEADLINE + 1500, `took ${ms} ms`);
  });
});
