/**
 * DMARC, DKIM, TLS-RPT, BIMI and MTA-STS record checks with stubbed DNS.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { evaluateBimi, fetchBimi } from '../src/checks/bimi/index.js';
import { evaluateDkim, fetchDkim, parseDkimKey } from '../src/checks/dkim/index.js';
import { evaluateDmarc, fetchDmarc, organizationalDomain, parseDmarc } from '../src/checks/dmarc/index.js';
import { evaluateMtaSts, fetchMtaSts, parseStsPolicy } from '../src/checks/mta-sts/index.js';
import { evaluateTlsRpt, fetchTlsRpt } from '../src/checks/tls-rpt/index.js';
import { type StubZone, stubDns, txt } from './helpers/stub-dns.js';

const dmarc = async (zone: StubZone, domain = 'example.com') => evaluateDmarc(await fetchDmarc(stubDns(zone), domain));
const codes = (fs: { code: string }[]) => fs.map((f) => f.code).sort();

describe('DMARC', () => {
  it('finds the organizational domain with the public suffix list', () => {
    assert.equal(organizationalDomain('mail.example.co.uk'), 'example.co.uk');
    assert.equal(organizationalDomain('a.b.example.com'), 'example.com');
    assert.equal(organizationalDomain('sub.dmarc-org.test'), 'dmarc-org.test');
  });

  it('is silent for a complete policy', async () => {
    assert.deepEqual(
      await dmarc({ '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@example.com') } }),
      [],
    );
  });

  it('falls back to the organizational domain and says so', async () => {
    const f = await dmarc(
      { '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com') } },
      'shop.example.com',
    );
    assert.deepEqual(codes(f), ['dmarc.inherited', 'dmarc.policy.none']);
    assert.equal(f.find((x) => x.code === 'dmarc.inherited')?.params.organizationalDomain, 'example.com');
  });

  it('reports missing with a starting record, multiple, and each syntax error', async () => {
    const missing = await dmarc({ 'example.com': { A: ['192.0.2.1'] } });
    assert.deepEqual(codes(missing), ['dmarc.missing']);
    assert.match(missing[0]?.fix?.value ?? '', /^v=DMARC1; p=quarantine; rua=mailto:/);
    assert.deepEqual(
      codes(await dmarc({ '_dmarc.example.com': { TXT: txt('v=DMARC1; p=none', 'v=DMARC1; p=reject') } })),
      ['dmarc.multiple'],
    );
    for (const bad of [
      'v=DMARC1; p=bogus',
      'v=DMARC1',
      'p=reject; v=DMARC1',
      'v=DMARC1; p=reject; pct=150',
      'v=DMARC1; p=reject; rua=dmarc@example.com',
    ]) {
      assert.equal(parseDmarc(bad).ok, false, bad);
      assert.deepEqual(codes(await dmarc({ '_dmarc.example.com': { TXT: txt(bad) } })), ['dmarc.syntax'], bad);
    }
  });

  it('reports p=none, pct below 100 and a missing rua, each with what fixes it', async () => {
    const f = await dmarc({ '_dmarc.example.com': { TXT: txt('v=DMARC1; p=none; pct=20') } });
    assert.deepEqual(codes(f), ['dmarc.pct.partial', 'dmarc.policy.none', 'dmarc.rua.missing']);
    // One record fixes both: each fix alone would bring back what the other removed.
    const fixed = 'v=DMARC1; p=quarantine; pct=20; rua=mailto:dmarc-reports@example.com';
    assert.equal(f.find((x) => x.code === 'dmarc.policy.none')?.fix?.value, fixed);
    assert.equal(f.find((x) => x.code === 'dmarc.rua.missing')?.fix?.value, fixed);
    assert.equal(f.find((x) => x.code === 'dmarc.pct.partial')?.params.pct, 20);
  });

  it('checks the authorization of report destinations outside the organization (RFC 7489 7.1)', async () => {
    const record = 'v=DMARC1; p=reject; rua=mailto:a@reports.net,mailto:b@example.com; ruf=mailto:c@other.org';
    const f = await dmarc({
      '_dmarc.example.com': { TXT: txt(record) },
      'example.com._report._dmarc.reports.net': { TXT: txt('v=DMARC1') },
    });
    assert.deepEqual(
      f.map((x) => [x.code, x.subject]),
      [['dmarc.rua.unauthorized', 'example.com._report._dmarc.other.org']],
    );
    assert.deepEqual(f[0]?.fix, { type: 'TXT', name: 'example.com._report._dmarc.other.org', value: 'v=DMARC1' });
  });

  it('says nothing when a lookup failed, rather than "missing"', async () => {
    assert.deepEqual(await dmarc({ '_dmarc.example.com': { TXT: 'servfail' } }), []);
  });

  it('reads tag names in any case, as RFC 7489 6.4 writes them (ABNF quoted strings)', async () => {
    assert.deepEqual(
      await dmarc({ '_dmarc.example.com': { TXT: txt('V=DMARC1; P=reject; RUA=mailto:d@example.com') } }),
      [],
    );
    assert.deepEqual(
      codes(
        await dmarc({ '_dmarc.example.com': { TXT: txt('v=DMARC1; P=Quarantine; PCT=50; RUA=mailto:d@example.com') } }),
      ),
      ['dmarc.pct.partial'],
    );
    const inherited = await dmarc(
      { '_dmarc.example.com': { TXT: txt('V=DMARC1; P=reject; SP=none; RUA=mailto:d@example.com') } },
      'shop.example.com',
    );
    assert.deepEqual(codes(inherited), ['dmarc.inherited', 'dmarc.policy.none']);
    // The value DMARC1 is not a quoted string: it keeps its case (%x44.4d.41.52.43.31).
    assert.equal(parseDmarc('v=dmarc1; p=reject').ok, false);
  });

  it('reports a record starting with white space, which receivers discard (RFC 7489 6.6.3), with the trimmed one as fix', async () => {
    const f = await dmarc({ '_dmarc.example.com': { TXT: txt(' v=DMARC1; p=reject; rua=mailto:d@example.com') } });
    assert.deepEqual(codes(f), ['dmarc.syntax']);
    assert.equal(f[0]?.params.reason, 'record.leading_space');
    assert.equal(f[0]?.fix?.value, 'v=DMARC1; p=reject; rua=mailto:d@example.com');
    // Beside a proper record it is one receivers discard: the proper one is the policy.
    assert.deepEqual(
      await dmarc({
        '_dmarc.example.com': { TXT: txt(' v=DMARC1; p=none', 'v=DMARC1; p=reject; rua=mailto:d@example.com') },
      }),
      [],
    );
  });
});

function rsaRecord(bits: number, extra = '') {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return `v=DKIM1;${extra} k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}

describe('DKIM', () => {
  const k2048 = rsaRecord(2048);
  it('measures RSA keys: 512 insecure, 1024 short, 2048 fine; reads Ed25519', () => {
    assert.equal(parseDkimKey('s', 'n', rsaRecord(512)).bits, 512);
    assert.equal(parseDkimKey('s', 'n', k2048).bits, 2048);
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
    assert.equal(parseDkimKey('s', 'n', `v=DKIM1; k=ed25519; p=${raw}`).bits, 256);
  });

  it('reports by selector: insecure, short, testing, revoked, syntax', async () => {
    const dns = stubDns({
      'a._domainkey.example.com': { TXT: txt(rsaRecord(512)) },
      'b._domainkey.example.com': { TXT: txt(rsaRecord(1024)) },
      'c._domainkey.example.com': { TXT: txt(rsaRecord(2048, ' t=y;')) },
      'd._domainkey.example.com': { TXT: txt('v=DKIM1; p=') },
      'e._domainkey.example.com': { TXT: txt('v=DKIM1; k=rsa; p=###') },
      'f._domainkey.example.com': { TXT: txt(k2048) },
    });
    const f = evaluateDkim(await fetchDkim(dns, 'example.com', ['a', 'b', 'c', 'd', 'e', 'f', 'g']));
    assert.deepEqual(
      f.map((x) => [x.code, x.subject]),
      [
        ['dkim.key.insecure', 'a._domainkey.example.com'],
        ['dkim.key.short', 'b._domainkey.example.com'],
        ['dkim.testing', 'c._domainkey.example.com'],
        ['dkim.revoked', 'd._domainkey.example.com'],
        ['dkim.syntax', 'e._domainkey.example.com'],
      ],
    );
  });

  it('reports a key whose service types exclude email (RFC 6376 3.6.1), and accepts * and email', async () => {
    const dns = stubDns({
      'a._domainkey.example.com': { TXT: txt(k2048.replace('v=DKIM1;', 'v=DKIM1; s=tlsrpt;')) },
      'b._domainkey.example.com': { TXT: txt(k2048.replace('v=DKIM1;', 'v=DKIM1; s=email:tlsrpt;')) },
      'c._domainkey.example.com': { TXT: txt(k2048.replace('v=DKIM1;', 'v=DKIM1; s=*;')) },
    });
    const f = evaluateDkim(await fetchDkim(dns, 'example.com', ['a', 'b', 'c']));
    assert.deepEqual(
      f.map((x) => [x.code, x.subject, x.severity]),
      [['dkim.key.not_for_email', 'a._domainkey.example.com', 'critical']],
    );
    assert.deepEqual(f[0]?.params.services, ['tlsrpt']);
  });

  it('reports missing only when every selector answered', async () => {
    const none = await fetchDkim(stubDns({}), 'example.com', ['a', 'b']);
    assert.deepEqual(codes(evaluateDkim(none)), ['dkim.missing']);
    const failedOne = await fetchDkim(stubDns({ 'b._domainkey.example.com': { fail: 'timeout' } }), 'example.com', [
      'a',
      'b',
    ]);
    assert.deepEqual(evaluateDkim(failedOne), []);
  });
});

describe('TLS-RPT, BIMI, MTA-STS records', () => {
  it('TLS-RPT: missing with a record to publish, syntax, fine', async () => {
    const run = async (zone: StubZone) => evaluateTlsRpt(await fetchTlsRpt(stubDns(zone), 'example.com'));
    const missing = await run({});
    assert.deepEqual(codes(missing), ['tlsrpt.missing']);
    assert.equal(missing[0]?.fix?.value, 'v=TLSRPTv1; rua=mailto:tls-reports@example.com');
    assert.deepEqual(
      codes(await run({ '_smtp._tls.example.com': { TXT: txt('v=TLSRPTv1; rua=ftp://x.example.com') } })),
      ['tlsrpt.syntax'],
    );
    assert.deepEqual(codes(await run({ '_smtp._tls.example.com': { TXT: txt('v=TLSRPTv1;') } })), ['tlsrpt.syntax']);
    assert.deepEqual(
      await run({
        '_smtp._tls.example.com': { TXT: txt('v=TLSRPTv1; rua=mailto:r@example.com,https://r.example.com/tls') },
      }),
      [],
    );
  });

  it('BIMI: missing, syntax, fine', async () => {
    const run = async (zone: StubZone) => evaluateBimi(await fetchBimi(stubDns(zone), 'example.com'));
    assert.deepEqual(codes(await run({})), ['bimi.missing']);
    assert.deepEqual(
      codes(await run({ 'default._bimi.example.com': { TXT: txt('v=BIMI1 l=https://example.com/l.svg') } })),
      ['bimi.syntax'],
    );
    assert.deepEqual(
      codes(await run({ 'default._bimi.example.com': { TXT: txt('v=BIMI1; l=http://example.com/l.svg') } })),
      ['bimi.syntax'],
    );
    assert.deepEqual(
      await run({ 'default._bimi.example.com': { TXT: txt('v=BIMI1; l=https://example.com/l.svg; a=;') } }),
      [],
    );
  });

  it('BIMI: checks lps= (local-part prefixes) and avp= (brand or personal)', async () => {
    const run = async (record: string) =>
      codes(
        evaluateBimi(await fetchBimi(stubDns({ 'default._bimi.example.com': { TXT: txt(record) } }), 'example.com')),
      );
    const l = 'v=BIMI1; l=https://example.com/l.svg';
    assert.deepEqual(await run(`${l}; lps=news, billing-team; avp=personal`), []);
    assert.deepEqual(await run(`${l}; lps=`), []);
    assert.deepEqual(await run(`${l}; lps=news,help_desk`), ['bimi.syntax']);
    assert.deepEqual(await run(`${l}; avp=logo`), ['bimi.syntax']);
    assert.deepEqual(await run(`${l}; avp=Brand`), ['bimi.syntax']);
  });

  it('MTA-STS: missing with a dated record, present, failed', async () => {
    const today = new Date('2026-11-29T10:00:00Z');
    const run = async (zone: StubZone) =>
      evaluateMtaSts(await fetchMtaSts(stubDns(zone), 'example.com', ['mx.example.com']), today);
    const missing = await run({});
    assert.deepEqual(missing[0]?.fix, {
      type: 'TXT',
      name: '_mta-sts.example.com',
      value: 'v=STSv1; id=20261129',
      files: [
        {
          url: 'https://mta-sts.example.com/.well-known/mta-sts.txt',
          contentType: 'text/plain',
          content: 'version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 604800\n',
        },
      ],
    });
    assert.deepEqual(await run({ '_mta-sts.example.com': { TXT: txt('v=STSv1; id=abc') } }), []);
    assert.deepEqual(await run({ '_mta-sts.example.com': { TXT: 'timeout' } }), []);
  });

  it('MTA-STS: a record with two id= or two records is invalid, and senders ignore it (RFC 8461 3.1)', async () => {
    const today = new Date('2026-11-29T10:00:00Z');
    const fetch = async (...records: string[]) =>
      fetchMtaSts(stubDns({ '_mta-sts.example.com': { TXT: txt(...records) } }), 'example.com');
    const twoIds = await fetch('v=STSv1; id=abc; id=def');
    assert.equal(twoIds.state, 'invalid');
    const f = evaluateMtaSts(twoIds, today);
    assert.deepEqual(
      f.map((x) => [x.code, x.severity, x.subject]),
      [['mta_sts.record.invalid', 'warning', '_mta-sts.example.com']],
    );
    assert.equal((await fetch('v=STSv1; id=abc', 'v=STSv1; id=def')).state, 'invalid');
    assert.equal((await fetch('v=STSv1; id=not-alnum')).state, 'invalid');
    assert.deepEqual(await fetch('v=STSv1; id=abc;'), {
      domain: 'example.com',
      name: '_mta-sts.example.com',
      state: 'found',
      records: ['v=STSv1; id=abc;'],
      id: 'abc',
    });
  });

  it('MTA-STS: an mx pattern that is not a host name makes the policy invalid', () => {
    const policy = (mx: string) => `version: STSv1\nmode: enforce\nmx: ${mx}\nmax_age: 86400\n`;
    for (const good of ['mx1.example.com', '*.example.com', 'a-b.example.com', 'x']) {
      assert.equal(parseStsPolicy(policy(good)).ok, true, good);
    }
    for (const bad of [
      'mx-.example.com',
      '-mx.example.com',
      'mail.*.example.com',
      '*.*.example.com',
      '*example.com',
      'a..b',
    ]) {
      assert.equal(parseStsPolicy(policy(bad)).ok, false, bad);
    }
  });
});
