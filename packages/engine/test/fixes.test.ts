/**
 * Fixes that fix (issue 10, item 7): following a finding's `fix` alone must not make the report
 * worse. Each domain below is the good one with one thing broken; every fix its audit suggests is
 * applied alone (the record put in place of the records of its kind, its files served), and the
 * domain audited again: the finding is gone, no finding appears that was not there, and the score
 * does not fall. The audits run with probes (the MTA-STS policy is fetched), DNS from a stub, the
 * policy from a stub HTTP client serving the files the fixes name, and every SMTP/IMAP/POP3
 * connection refused (the same transport findings before and after).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateMtaSts, evaluateStsPolicy, fetchMtaSts, parseStsPolicy } from '../src/checks/mta-sts/index.js';
import {
  auditDomain,
  type Connector,
  type Finding,
  type FixRecord,
  type HttpClient,
  HttpError,
  type Report,
} from '../src/index.js';
import { mx, type StubZone, stubDns, txt } from './helpers/stub-dns.js';

const NOW = new Date('2026-11-29T03:00:00Z');
const POLICY_URL = 'https://mta-sts.example.com/.well-known/mta-sts.txt';
const policy = (mode: string, ...hosts: string[]) =>
  `version: STSv1\nmode: ${mode}\n${hosts.map((h) => `mx: ${h}\n`).join('')}max_age: 604800\n`;

interface World {
  zone: StubZone;
  files: Record<string, string>;
}

const refuse: Connector = {
  async connect() {
    throw Object.assign(new Error('connection refused (test)'), { code: 'ECONNREFUSED' });
  },
};

function audit(w: World): Promise<Report> {
  const http: HttpClient = {
    async request(req) {
      const body = w.files[req.url];
      if (body === undefined) throw new HttpError('connect', `nothing served at ${req.url}`);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(body), address: '1.2.3.80' };
    },
  };
  return auditDomain(
    'example.com',
    { dkimSelectors: ['s1'], ipBlocklists: [], domainBlocklists: [], allowPrivateTargets: true, timeoutMs: 10_000 },
    { dns: stubDns(w.zone), now: () => NOW, connector: refuse, http, probeCache: null },
  );
}

/** The good domain: two MX hosts with PTRs, SPF, DMARC, MTA-STS (enforce) and TLS-RPT. */
function good(): World {
  return {
    zone: {
      'example.com': { MX: mx([10, 'mx1.example.com'], [20, 'mx2.example.com']), TXT: txt('v=spf1 mx -all') },
      'mx1.example.com': { A: ['1.2.3.4'] },
      'mx2.example.com': { A: ['1.2.3.5'] },
      '4.3.2.1.in-addr.arpa': { PTR: ['mx1.example.com'] },
      '5.3.2.1.in-addr.arpa': { PTR: ['mx2.example.com'] },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:dmarc@example.com') },
      '_mta-sts.example.com': { TXT: txt('v=STSv1; id=20260101') },
      'mta-sts.example.com': { A: ['1.2.3.80'] },
      '_smtp._tls.example.com': { TXT: txt('v=TLSRPTv1; rua=mailto:tls@example.com') },
    },
    files: { [POLICY_URL]: policy('enforce', 'mx1.example.com', 'mx2.example.com') },
  };
}

function broken(change: (w: World) => void): World {
  const w = good();
  change(w);
  return w;
}

const VERSION = /^v=(spf1|DMARC1|STSv1|TLSRPTv1)\b/i;

/** The world with `fix` followed: its files served, its record in place of the records of its kind. */
function follow(w: World, fix: FixRecord): World {
  const zone: StubZone = structuredClone(w.zone);
  const files = { ...w.files };
  for (const f of fix.files ?? []) files[f.url] = f.content;
  const name = fix.name.toLowerCase().replace(/\.$/, '');
  zone[name] ??= {};
  const entry = zone[name];
  if (fix.type === 'TXT') {
    const kind = VERSION.exec(fix.value)?.[1]?.toLowerCase();
    const others = (entry.TXT as ReturnType<typeof txt> | undefined)?.filter(
      (r) => kind === undefined || VERSION.exec(r.text)?.[1]?.toLowerCase() !== kind,
    );
    entry.TXT = [...(others ?? []), ...txt(fix.value)];
  } else if (fix.type === 'MX') {
    const [preference, exchange] = fix.value.split(' ');
    entry.MX = mx([Number(preference), exchange as string]);
  } else if (fix.type === 'PTR') {
    entry.PTR = [fix.value.replace(/\.$/, '')];
  } else assert.fail(`no way to follow a ${fix.type} fix here`);
  return { zone, files };
}

const key = (f: Finding) => `${f.code} ${f.subject}`;

const CASES: [string, World][] = [
  [
    'no MTA-STS at all',
    broken((w) => {
      delete w.zone['_mta-sts.example.com'];
      w.files = {};
    }),
  ],
  [
    'an enforce policy without the second MX host',
    broken((w) => {
      w.files[POLICY_URL] = policy('enforce', 'mx1.example.com');
    }),
  ],
  [
    'a testing policy without the second MX host',
    broken((w) => {
      w.files[POLICY_URL] = policy('testing', 'mx1.example.com');
    }),
  ],
  [
    'a policy that does not parse',
    broken((w) => {
      w.files[POLICY_URL] = 'version: STSv1\nmode: sometimes\n';
    }),
  ],
  [
    'a record whose policy is not served',
    broken((w) => {
      w.files = {};
    }),
  ],
  [
    'no TLS-RPT record',
    broken((w) => {
      delete w.zone['_smtp._tls.example.com'];
    }),
  ],
  [
    'no DMARC record',
    broken((w) => {
      delete w.zone['_dmarc.example.com'];
    }),
  ],
  [
    'DMARC p=none without rua',
    broken((w) => {
      w.zone['_dmarc.example.com'] = { TXT: txt('v=DMARC1; p=none') };
    }),
  ],
  [
    'DMARC reports to another domain that did not authorize them',
    broken((w) => {
      w.zone['_dmarc.example.com'] = { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@reports.example.net') };
    }),
  ],
  [
    'a DMARC record with leading white space',
    broken((w) => {
      w.zone['_dmarc.example.com'] = { TXT: txt(' v=DMARC1; p=reject; rua=mailto:dmarc@example.com') };
    }),
  ],
  [
    'no SPF record',
    broken((w) => {
      w.zone['example.com'] = { ...w.zone['example.com'], TXT: txt('google-site-verification=x') };
    }),
  ],
  [
    'SPF +all',
    broken((w) => {
      w.zone['example.com'] = { ...w.zone['example.com'], TXT: txt('v=spf1 mx +all') };
    }),
  ],
  [
    'SPF ?all',
    broken((w) => {
      w.zone['example.com'] = { ...w.zone['example.com'], TXT: txt('v=spf1 mx ?all') };
    }),
  ],
  [
    'SPF without all',
    broken((w) => {
      w.zone['example.com'] = { ...w.zone['example.com'], TXT: txt('v=spf1 mx') };
    }),
  ],
  [
    'an MX host address without PTR',
    broken((w) => {
      delete w.zone['5.3.2.1.in-addr.arpa'];
    }),
  ],
  [
    'no MX (mail goes to the domain), and no MTA-STS',
    broken((w) => {
      w.zone['example.com'] = { A: ['1.2.3.4'], TXT: txt('v=spf1 a -all') };
      w.zone['4.3.2.1.in-addr.arpa'] = { PTR: ['example.com'] };
      delete w.zone['_mta-sts.example.com'];
      w.files = {};
    }),
  ],
];

describe('fixes that fix', () => {
  it('the good domain has no finding with a fix (the baseline the cases break)', async () => {
    const r = await audit(good());
    assert.deepEqual(r.findings.filter((f) => f.fix).map(key), []);
    assert.ok(!r.findings.some((f) => f.category === 'mta-sts'), r.findings.map(key).join(', '));
  });

  for (const [name, world] of CASES) {
    it(`${name}: each fix, followed alone, removes its finding and adds none`, async () => {
      const before = await audit(world);
      const fixes = before.findings.filter((f) => f.fix);
      assert.ok(fixes.length > 0, `a fix is suggested: ${before.findings.map(key).join(', ')}`);
      for (const f of fixes) {
        const after = await audit(follow(world, f.fix as FixRecord));
        const had = new Set(before.findings.map(key));
        const now = after.findings.map(key);
        assert.ok(!now.includes(key(f)), `${key(f)}: still there after its fix ${JSON.stringify(f.fix)}`);
        assert.deepEqual(
          now.filter((k) => !had.has(k)),
          [],
          `${key(f)}: following ${JSON.stringify(f.fix)} brought new findings`,
        );
        assert.ok((after.score ?? 0) >= (before.score ?? 0), `${key(f)}: score ${before.score} → ${after.score}`);
        // The refused connections cap both scores (smtp.unreachable is critical): each category's own does not fall either.
        for (const c of after.categories) {
          const was = before.categories.find((b) => b.id === c.id)?.score ?? 0;
          assert.ok((c.score ?? 0) >= was, `${key(f)}: ${c.id} ${was} → ${c.score}`);
        }
      }
    });
  }

  it('following every fix of a report, one after the other, leaves none of their findings and adds none', async () => {
    for (const [name, world] of CASES) {
      const before = await audit(world);
      const fixed = before.findings.filter((f) => f.fix);
      const done = fixed.reduce((w, f) => follow(w, f.fix as FixRecord), world);
      const after = (await audit(done)).findings.map(key);
      const had = new Set(before.findings.map(key));
      assert.deepEqual(
        after.filter((k) => fixed.some((f) => key(f) === k) || !had.has(k)),
        [],
        `${name}: after ${fixed.map(key).join(', ')}`,
      );
    }
  });

  it('mta_sts.missing names the policy file (its URL, the MX hosts, mode testing, max_age) as well as the record', async () => {
    const r = await audit(CASES[0]?.[1] as World);
    const f = r.findings.find((x) => x.code === 'mta_sts.missing');
    assert.deepEqual(f?.fix, {
      type: 'TXT',
      name: '_mta-sts.example.com',
      value: 'v=STSv1; id=20261129',
      files: [
        {
          url: 'https://mta-sts.example.com/.well-known/mta-sts.txt',
          contentType: 'text/plain',
          content: 'version: STSv1\nmode: testing\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n',
        },
      ],
    });
    const parsed = parseStsPolicy(f?.fix?.files?.[0]?.content ?? '');
    assert.deepEqual(parsed.ok && parsed.policy, {
      mode: 'testing',
      mx: ['mx1.example.com', 'mx2.example.com'],
      maxAge: 604800,
    });
  });

  it('the record alone, without the policy file, is worse than no record: that is why the file is in the fix', async () => {
    const world = CASES[0]?.[1] as World;
    const before = await audit(world);
    const f = before.findings.find((x) => x.code === 'mta_sts.missing') as Finding;
    const { files: _files, ...recordOnly } = f.fix as FixRecord;
    const after = await audit(follow(world, recordOnly));
    assert.ok(after.findings.some((x) => x.code === 'mta_sts.policy.unreachable'));
    const sts = (r: Report) => r.categories.find((c) => c.id === 'mta-sts')?.score ?? 0;
    assert.ok(sts(after) < sts(before), `mta-sts ${sts(before)} → ${sts(after)}`);
  });

  it('the implicit MX: the policy lists the domain itself; a null MX gets no policy to serve', async () => {
    const stub = (zone: StubZone, hosts: string[]) => fetchMtaSts(stubDns(zone), 'example.com', hosts);
    const implicit = evaluateMtaSts(await stub({}, ['example.com']), NOW)[0];
    assert.equal(
      implicit?.fix?.files?.[0]?.content,
      'version: STSv1\nmode: testing\nmx: example.com\nmax_age: 604800\n',
    );
    const nullMx = evaluateMtaSts(await stub({}, []), NOW)[0];
    assert.equal(nullMx?.code, 'mta_sts.missing');
    assert.equal(nullMx?.fix, undefined);
    // Without the MX hosts (a caller that did not pass them) nothing is suggested either.
    assert.equal(evaluateMtaSts(await fetchMtaSts(stubDns({}), 'example.com'), NOW)[0]?.fix, undefined);
  });

  it('mx_mismatch: the policy keeps its mode, patterns and max_age, and gains the hosts it missed, once for all', () => {
    const record = {
      domain: 'example.com',
      name: '_mta-sts.example.com',
      state: 'found' as const,
      records: ['v=STSv1; id=1'],
      id: '1',
    };
    const fetch = {
      url: POLICY_URL,
      state: 'ok' as const,
      status: 200,
      body: 'version: STSv1\nmode: enforce\nmx: *.mail.example.com\nmax_age: 1209600\n',
    };
    const findings = evaluateStsPolicy(
      record,
      fetch,
      ['a.mail.example.com', 'mx2.example.com', 'MX3.example.com.'],
      NOW,
    );
    assert.deepEqual(
      findings.map((f) => f.subject),
      ['mx2.example.com', 'MX3.example.com.'],
    );
    const content =
      'version: STSv1\nmode: enforce\nmx: *.mail.example.com\nmx: mx2.example.com\nmx: mx3.example.com\nmax_age: 1209600\n';
    for (const f of findings) {
      assert.equal(f.fix?.value, 'v=STSv1; id=20261129', 'a new id: senders fetch the policy again');
      assert.equal(f.fix?.files?.[0]?.content, content);
    }
    const sameDay = evaluateStsPolicy({ ...record, id: '20261129' }, fetch, ['mx2.example.com'], NOW)[0];
    assert.equal(sameDay?.fix?.value, 'v=STSv1; id=20261129030000', "a record with the day's id gets another");
    assert.deepEqual(
      evaluateStsPolicy(
        record,
        { ...fetch, body: content },
        ['a.mail.example.com', 'mx2.example.com', 'mx3.example.com'],
        NOW,
      ),
      [],
    );
  });
});
