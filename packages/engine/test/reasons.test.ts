/**
 * Findings say why with reason codes and structured params (params.ts), never with English text
 * in their params: the message catalogue words them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bimiProblem } from '../src/checks/bimi/index.js';
import { evaluateDkim, fetchDkim, parseDkimKey } from '../src/checks/dkim/index.js';
import { parseDmarc } from '../src/checks/dmarc/index.js';
import { parseStsRecord } from '../src/checks/mta-sts/index.js';
import { parseStsPolicy } from '../src/checks/mta-sts/policy.js';
import { parseSpf } from '../src/checks/spf/parse.js';
import { evaluateTlsRpt, tlsRptProblem } from '../src/checks/tls-rpt/index.js';
import { CODE_PARAMS, REASONS } from '../src/params.js';
import { stubDns, txt } from './helpers/stub-dns.js';

const whyOf = (text: string) => {
  const r = parseSpf(text);
  assert.equal(r.ok, false, text);
  return r.ok ? undefined : r.why;
};

describe('reason codes', () => {
  it('names what is wrong with an SPF record, with the term concerned', () => {
    assert.deepEqual(whyOf('v=spf1 foo:bar.example -all'), {
      reason: 'spf.unknown_mechanism',
      mechanism: 'foo',
      term: 'foo:bar.example',
    });
    assert.deepEqual(whyOf('v=spf1 ip4:300.1.1.1 -all'), { reason: 'spf.invalid_network', term: 'ip4:300.1.1.1' });
    assert.deepEqual(whyOf('v=spf1 ip4:192.0.2.0/33 -all'), { reason: 'spf.invalid_cidr', term: 'ip4:192.0.2.0/33' });
    assert.deepEqual(whyOf('v=spf1 include -all'), { reason: 'spf.domain_missing', term: 'include' });
    assert.deepEqual(whyOf('v=spf1 all=x redirect=a.example redirect=b.example'), {
      reason: 'spf.duplicate_modifier',
      modifier: 'redirect',
    });
    assert.deepEqual(whyOf('v=spf1 a:example.com\u00a0-all'), { reason: 'spf.non_ascii' });
  });

  it('names what is wrong with a DKIM key record, and the finding carries it', async () => {
    assert.deepEqual(parseDkimKey('s1', 's1._domainkey.example.com', 'v=DKIM1; k=rsa; p=not*base64').why, {
      reason: 'dkim.p_not_base64',
    });
    assert.deepEqual(parseDkimKey('s1', 'n', 'v=DKIM1; k=dsa; p=AAAA').why, {
      reason: 'dkim.key_type_unknown',
      keyType: 'dsa',
    });
    assert.deepEqual(parseDkimKey('s1', 'n', 'v=DKIM1; p=AAAA; p=BBBB').why, { reason: 'tags.repeated', tag: 'p' });
    const dns = stubDns({ 's1._domainkey.example.com': { TXT: txt('v=DKIM1; k=rsa; p=not*base64') } });
    const [f] = evaluateDkim(await fetchDkim(dns, 'example.com', ['s1']));
    assert.equal(f?.code, 'dkim.syntax');
    assert.deepEqual(f?.params, { selector: 's1', reason: 'dkim.p_not_base64' });
  });

  it('names what is wrong with DMARC, TLS-RPT and BIMI records by tag', () => {
    const dmarcWhy = (t: string) => {
      const r = parseDmarc(t);
      return r.ok ? undefined : r.why;
    };
    assert.deepEqual(dmarcWhy('v=DMARC1; p=block'), { reason: 'record.tag_invalid', tag: 'p', value: 'block' });
    assert.deepEqual(dmarcWhy('p=none; v=DMARC1'), { reason: 'record.version_first', version: 'v=DMARC1' });
    assert.deepEqual(dmarcWhy('v=DMARC1; p=none; rua=reports@example.com'), {
      reason: 'record.uri_invalid',
      tag: 'rua',
      uri: 'reports@example.com',
    });
    assert.deepEqual(tlsRptProblem('v=TLSRPTv1')?.why, { reason: 'record.tag_missing', tag: 'rua' });
    assert.deepEqual(bimiProblem('v=BIMI1; l=http://example.com/logo.svg')?.why, {
      reason: 'record.tag_invalid',
      tag: 'l',
      value: 'http://example.com/logo.svg',
    });
    const [f] = evaluateTlsRpt({
      domain: 'example.com',
      name: '_smtp._tls.example.com',
      state: 'found',
      records: ['v=TLSRPTv1; rua=mailto:a@example.com', 'v=TLSRPTv1; rua=mailto:b@example.com'],
    });
    assert.deepEqual(f?.params, { reason: 'record.multiple', count: 2 });
  });

  it('names what is wrong with an MTA-STS record and policy', () => {
    const rec = parseStsRecord('v=STSv1; id=not-letters');
    assert.deepEqual(rec.ok ? undefined : rec.why, { reason: 'record.tag_invalid', tag: 'id', value: 'not-letters' });
    const pol = parseStsPolicy('version: STSv1\nmode: strict\nmax_age: 86400\nmx: mx.example.com\n');
    assert.deepEqual(pol.ok ? undefined : pol.why, { reason: 'sts.policy.mode', mode: 'strict' });
    const noMx = parseStsPolicy('version: STSv1\nmode: enforce\nmax_age: 86400\n');
    assert.deepEqual(noMx.ok ? undefined : noMx.why, { reason: 'sts.policy.no_mx' });
  });

  it('lets each code give only reasons whose params it declares', () => {
    for (const [code, spec] of Object.entries(CODE_PARAMS) as [
      string,
      { params: readonly string[]; reasons?: readonly string[] },
    ][]) {
      for (const r of spec.reasons ?? []) {
        for (const p of REASONS[r as keyof typeof REASONS])
          assert.ok(spec.params.includes(p), `${code}: ${r} needs ${p}`);
      }
    }
  });
});
