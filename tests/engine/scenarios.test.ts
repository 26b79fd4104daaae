/**
 * Every scenario domain of the lab through the command line, DNS only and with probes:
 *   mailaudit audit <domains> --json --resolver <lab resolver> --allow-private-targets [--no-probes]
 * (plus the lab's blocklists and CA). Each report must carry exactly the scenario's declared codes
 * (with --no-probes, less those only probes can produce). Scenarios declared without
 * --allow-private-targets run apart, without it. The same with probes, on two audit pools whose
 * probe results and connection limit are shared through Redis. The same again with the DNS
 * queries pipelined over TCP (--dns-transport tcp).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { AuditPool } from '@mailaudit/engine';
import { ensureLab, type LabInfo, PROBE_CODES, type Scenario } from '@mailaudit/lab';
import { PROBE_SHARE_MODULE } from '@mailaudit/queue';
import { Redis } from 'ioredis';
import { runCli } from '../helpers/cli.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let lab: LabInfo;

before(async () => {
  lab = await ensureLab();
});

interface Report {
  domain: string;
  schema: string;
  score: number | null;
  grade: string | null;
  outcome: string;
  evidence: Record<string, unknown>;
  categories: { id: string; status: string; score: number | null }[];
  findings: { code: string; severity: string; category: string; subject: string; params: Record<string, unknown> }[];
}

async function auditAll(
  scenarios: Scenario[],
  allowPrivate: boolean,
  probes = false,
  extra: string[] = [],
): Promise<Map<string, Report>> {
  const args = [
    'audit',
    ...scenarios.map((s) => s.domain),
    '--json',
    '--resolver',
    lab.resolver,
    '--ca-file',
    lab.caFile,
  ];
  if (!probes) args.push('--no-probes');
  args.push(...extra);
  if (allowPrivate) args.push('--allow-private-targets');
  for (const z of lab.ipBlocklists) args.push('--ip-blocklist', z);
  for (const z of lab.domainBlocklists) args.push('--domain-blocklist', z);
  const run = await runCli(args);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const reports = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Report);
  assert.equal(reports.length, scenarios.length);
  // NDJSON in the order the domains were given.
  assert.deepEqual(
    reports.map((r) => r.domain),
    scenarios.map((s) => s.domain),
  );
  return new Map(reports.map((r) => [r.domain, r]));
}

function checkScenario(s: Scenario, r: Report | undefined, probes = false): void {
  assert.ok(r, `no report for ${s.domain}`);
  assert.equal(r.schema, 'mailaudit.report/1');
  const got = [...new Set(r.findings.map((f) => f.code))].sort();
  const want = [...new Set(s.expect.filter((c) => probes || !PROBE_CODES.has(c)))].sort();
  assert.deepEqual(got, want, `${s.domain} (${s.about})`);
  for (const code of s.absent ?? []) assert.ok(!got.includes(code), `${s.domain} must not report ${code}`);
}

describe('scenario domains through `mailaudit audit --json` with probes', () => {
  it('each report carries exactly its declared codes (with --allow-private-targets)', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets !== false);
    const reports = await auditAll(scenarios, true, true);
    for (const s of scenarios) checkScenario(s, reports.get(s.domain), true);
    // Probes ran: the all-good domain's mail host was seen on every port.
    const good = reports.get('good.test') as Report & {
      evidence: { transport: { ports: { port: number; state: string }[] } };
    };
    const open = good.evidence.transport.ports
      .filter((p) => p.state === 'open')
      .map((p) => p.port)
      .sort((a, b) => a - b);
    assert.deepEqual(open, [25, 110, 143, 465, 587, 993, 995]);
  });

  it('each scenario declared without --allow-private-targets, run without it', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets === false);
    const reports = await auditAll(scenarios, false, true);
    for (const s of scenarios) checkScenario(s, reports.get(s.domain), true);
  });

  it('reports the severity of an MX mismatch by policy mode: critical for enforce, warning for testing', async () => {
    const reports = await auditAll(
      lab.model.scenarios.filter((s) => s.domain.startsWith('mta-sts-') && s.domain.includes('mismatch')),
      true,
      true,
    );
    const sev = (d: string) => reports.get(d)?.findings.find((f) => f.code === 'mta_sts.mx_mismatch')?.severity;
    assert.equal(sev('mta-sts-mismatch.test'), 'critical');
    assert.equal(sev('mta-sts-testing-mismatch.test'), 'warning');
  });
});

describe('scenario domains through `mailaudit audit --json --dns-transport tcp` with probes', () => {
  it('each report carries exactly its declared codes, every query over pipelined TCP', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets !== false);
    // More than 16 domains: the audits run on the command's audit threads, each with its connections.
    assert.ok(scenarios.length >= 16);
    const reports = await auditAll(scenarios, true, true, ['--dns-transport', 'tcp']);
    for (const s of scenarios) checkScenario(s, reports.get(s.domain), true);
  });

  it('refuses a transport it does not know, as a usage error', async () => {
    const run = await runCli(['audit', 'good.test', '--dns-transport', 'quic']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--dns-transport takes udp or tcp/);
  });
});

describe('scenario domains with probe results shared through Redis by two audit pools', () => {
  it('each report carries exactly its declared codes, whichever pool probed', async () => {
    const prefix = `test:scenarios:${randomBytes(4).toString('hex')}`;
    // Two pools with a Redis connection per thread each, as two worker processes have.
    const pools = [0, 1].map(
      () =>
        new AuditPool({
          servers: [lab.resolver],
          threads: 1,
          caFile: lab.caFile,
          share: { module: PROBE_SHARE_MODULE, options: { url: REDIS_URL, prefix } },
        }),
    );
    const redis = new Redis(REDIS_URL);
    try {
      const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets !== false);
      const options = {
        allowPrivateTargets: true,
        ipBlocklists: lab.ipBlocklists,
        domainBlocklists: lab.domainBlocklists,
      };
      // Every domain by both pools at once: each mail host's results are raced for, then shared.
      const reports = await Promise.all(
        pools.map((pool) => Promise.all(scenarios.map((s) => pool.audit(s.domain, options)))),
      );
      for (const list of reports)
        for (const [i, s] of scenarios.entries()) checkScenario(s, list[i] as unknown as Report, true);
      const stats = await Promise.all(pools.map((p) => p.stats()));
      assert.ok(stats.reduce((n, s) => n + s.probes.shared, 0) > 0, 'results were read from Redis');
      assert.ok(stats.reduce((n, s) => n + s.probes.probed, 0) > 0);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe('the command of issue 3, as written: built-in blocklists, no CA file', () => {
  it('gives every DNS-level scenario exactly its declared codes', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets !== false);
    const run = await runCli([
      'audit',
      ...scenarios.map((s) => s.domain),
      '--json',
      '--resolver',
      lab.resolver,
      '--allow-private-targets',
      '--no-probes',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const reports = new Map(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Report)
        .map((r) => [r.domain, r]),
    );
    for (const s of scenarios) checkScenario(s, reports.get(s.domain));
  });
});

describe('scenario domains through `mailaudit audit --json --no-probes`', () => {
  it('each report carries exactly its declared DNS-level codes (with --allow-private-targets)', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets !== false);
    assert.ok(scenarios.length >= 60);
    const reports = await auditAll(scenarios, true);
    for (const s of scenarios) checkScenario(s, reports.get(s.domain));
  });

  it('each scenario declared without --allow-private-targets, run without it', async () => {
    const scenarios = lab.model.scenarios.filter((s) => s.options?.allowPrivateTargets === false);
    assert.ok(scenarios.length >= 1);
    const reports = await auditAll(scenarios, false);
    for (const s of scenarios) checkScenario(s, reports.get(s.domain));
  });

  it('grades as docs/scoring.md says: A+ for good.test, F for what cannot receive mail, D under a critical finding', async () => {
    const reports = await auditAll(
      lab.model.scenarios.filter((s) =>
        ['good.test', 'nomx.test', 'nxdomain.test', 'spf-missing.test', 'lame.test'].includes(s.domain),
      ),
      true,
    );
    assert.deepEqual([reports.get('good.test')?.grade, reports.get('good.test')?.score], ['A+', 100]);
    assert.equal(reports.get('nomx.test')?.grade, 'F');
    assert.equal(reports.get('nxdomain.test')?.grade, 'F');
    assert.equal(reports.get('spf-missing.test')?.grade, 'D');
    for (const d of ['good.test', 'nomx.test', 'spf-missing.test'])
      assert.equal(reports.get(d)?.outcome, 'complete', d);
  });

  it('a lame delegation with a working resolver: a critical domain finding, grade F, outcome partial, never inconclusive', async () => {
    const reports = await auditAll(
      lab.model.scenarios.filter((s) => s.domain === 'lame.test'),
      true,
    );
    const lame = reports.get('lame.test') as Report;
    assert.deepEqual([lame.outcome, lame.grade], ['partial', 'F']);
    assert.ok((lame.score as number) <= 59);
    const failed = lame.findings.find((f) => f.code === 'domain.dns_failed');
    assert.deepEqual([failed?.severity, failed?.category, failed?.subject], ['critical', 'domain', 'lame.test']);
    assert.equal(lame.categories.find((c) => c.id === 'domain')?.status, 'fail');
    // Every other category could not be checked: left out of the score, not counted as 100.
    for (const c of lame.categories.filter((x) => x.id !== 'domain'))
      assert.deepEqual([c.id, c.status, c.score], [c.id, 'error', null]);
    assert.ok(
      lame.findings
        .filter((f) => f.code !== 'domain.dns_failed')
        .every(
          (f) =>
            f.code === 'dns.lookup_failed' && typeof f.params.name === 'string' && typeof f.params.type === 'string',
        ),
    );
  });
});

describe('`mailaudit audit` with a resolver where nothing answers', () => {
  it('exits 1 with one line naming the resolver, and prints no report', async () => {
    // A loopback address of this lab's net where nothing listens.
    const dead = `${process.env.MAILAUDIT_LAB_NET ?? '127.20'}.255.254`;
    const run = await runCli(['audit', 'good.test', 'nomx.test', '--json', '--resolver', dead, '--no-probes']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] as string, new RegExp(`resolver ${dead.replace(/\./g, '\\.')} does not answer`));
  });

  it('names only the failing one of two resolvers and audits through the other', async () => {
    const dead = `${process.env.MAILAUDIT_LAB_NET ?? '127.20'}.255.254`;
    const run = await runCli([
      'audit',
      'good.test',
      '--json',
      '--resolver',
      dead,
      '--resolver',
      lab.resolver,
      '--no-probes',
      '--allow-private-targets',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.notEqual(report.outcome, 'inconclusive');
  });
});

describe('DNSSEC failures through `mailaudit audit`: a DS matching no key, a bogus apex MX', () => {
  it('gives dnssec.bogus (critical) with the MX lookup failed, and shows what CD queries see, unvalidated', async () => {
    const reports = await auditAll(
      lab.model.scenarios.filter((s) => ['dnssec-ds-mismatch.test', 'dnssec-bogus-mx.test'].includes(s.domain)),
      true,
      true,
    );
    for (const domain of ['dnssec-ds-mismatch.test', 'dnssec-bogus-mx.test']) {
      const r = reports.get(domain) as Report & {
        evidence: {
          dnssec: {
            state: string;
            unvalidated: { name: string; type: string; records: unknown[]; validated: boolean }[];
          };
        };
      };
      const bogus = r.findings.find((f) => f.code === 'dnssec.bogus');
      assert.equal(bogus?.severity, 'critical', domain);
      assert.deepEqual([bogus?.params.name, bogus?.params.type], [domain, 'MX'], domain);
      const failedMx = r.findings.find((f) => f.code === 'dns.lookup_failed' && f.params.name === domain);
      assert.ok(((failedMx?.params.types ?? []) as string[]).includes('MX'), domain);
      assert.equal(r.evidence.dnssec.state, 'bogus', domain);
      const mx = r.evidence.dnssec.unvalidated.find((u) => u.name === domain && u.type === 'MX');
      assert.equal(mx?.validated, false, domain);
      assert.ok((mx?.records.length ?? 0) > 0, domain);
    }
    // The zone-wide failure shows the CD view of the domain's SPF and DMARC records too.
    const ds = reports.get('dnssec-ds-mismatch.test') as Report & {
      evidence: { dnssec: { unvalidated: { name: string; type: string }[] } };
    };
    const seen = ds.evidence.dnssec.unvalidated.map((u) => `${u.name} ${u.type}`);
    assert.ok(seen.includes('dnssec-ds-mismatch.test TXT') && seen.includes('_dmarc.dnssec-ds-mismatch.test TXT'));
    // The bogus MX alone leaves the rest of the audit standing: DMARC, SPF, DKIM pass.
    const mxOnly = reports.get('dnssec-bogus-mx.test') as Report;
    for (const id of ['spf', 'dmarc', 'dkim']) {
      assert.equal(mxOnly.categories.find((c) => c.id === id)?.status, 'pass', id);
    }
  });
});

describe('IPv6 mail hosts through `mailaudit audit`: probes, PTR and blocklists over IPv6', () => {
  it('probes, looks up PTR and asks blocklists for the IPv6 addresses too', async () => {
    const domains = ['ipv6.test', 'ipv6-unreachable.test', 'ptr-ipv6-missing.test', 'blocklist-ipv6.test'];
    const reports = await auditAll(
      lab.model.scenarios.filter((s) => domains.includes(s.domain)),
      true,
      true,
    );
    const address6 = (name: string) => lab.model.hosts.find((h) => h.name === name)?.address6 as string;
    type Ports = {
      evidence: {
        transport: { ports: { address: string; port: number; state: string }[] };
        ptr: { address: string; state: string }[];
      };
    };
    const good = reports.get('ipv6.test') as Report & Ports;
    const v6 = address6('mx.ipv6.test');
    const open6 = good.evidence.transport.ports
      .filter((p) => p.address === v6 && p.state === 'open')
      .map((p) => p.port)
      .sort((a, b) => a - b);
    assert.deepEqual(open6, [25, 110, 143, 465, 587, 993, 995]);
    assert.equal(good.evidence.ptr.find((p) => p.address === v6)?.state, 'confirmed');
    const subjects = (d: string, code: string) =>
      (reports.get(d) as Report).findings.filter((f) => f.code === code).map((f) => f.subject);
    assert.deepEqual(subjects('ipv6-unreachable.test', 'smtp.ipv6.unreachable'), ['mx.ipv6-unreachable.test']);
    assert.ok(subjects('ptr-ipv6-missing.test', 'ptr.missing').includes(address6('mx.ptr-ipv6-missing.test')));
    assert.ok(subjects('blocklist-ipv6.test', 'blocklist.ip.listed').includes(address6('mx.blocklist-ipv6.test')));
  });
});
