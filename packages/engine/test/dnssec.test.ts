/**
 * DNSSEC failures through auditDomain with stubbed DNS: a zone whose every answer fails
 * validation (a DS matching none of its keys) and one whose apex MX alone fails. The MX lookup
 * SERVFAILs in both, and both must give dnssec.bogus with what CD queries see, marked unvalidated;
 * a SERVFAIL that CD does not answer either stays a lookup failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditDomain, type Report } from '../src/index.js';
import { mx, type StubZone, stubDns, txt } from './helpers/stub-dns.js';

const options = { probes: false, dkimSelectors: ['s1'], ipBlocklists: [], domainBlocklists: [] };
const audit = (zone: StubZone) =>
  auditDomain('example.com', options, { dns: stubDns(zone), now: () => new Date('2026-11-29T03:00:00Z') });
const codes = (r: Report) => [...new Set(r.findings.map((f) => f.code))].sort();

const records = {
  MX: mx([10, 'mx.example.com']),
  TXT: txt('v=spf1 mx -all'),
  A: ['192.0.2.1'],
  SOA: [{ primary: 'ns.example.com', admin: 'h.example.com', serial: 1, minimum: 60 }],
};

describe('DNSSEC validation failures', () => {
  it('a zone that fails validation everywhere: dnssec.bogus (critical), the MX failure, and the CD view', async () => {
    const all = ['MX', 'TXT', 'A', 'AAAA', 'SOA'] as const;
    const r = await audit({
      'example.com': { ...records, bogus: [...all] },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject'), bogus: ['TXT'] },
    });
    assert.deepEqual(codes(r), ['dns.lookup_failed', 'dnssec.bogus']);
    const bogus = r.findings.find((f) => f.code === 'dnssec.bogus');
    assert.equal(bogus?.severity, 'critical');
    assert.deepEqual([bogus?.params.name, bogus?.params.type], ['example.com', 'MX']);
    const seen = (
      r.evidence.dnssec as { unvalidated: { name: string; type: string; records: unknown[]; validated: boolean }[] }
    ).unvalidated;
    assert.ok(seen.every((u) => u.validated === false));
    assert.deepEqual(
      seen.map((u) => `${u.name} ${u.type}`),
      ['example.com MX', 'example.com A', 'example.com AAAA', 'example.com TXT', '_dmarc.example.com TXT'],
    );
    assert.deepEqual(seen[0]?.records, records.MX);
    assert.deepEqual(seen.find((u) => u.type === 'TXT' && u.name === 'example.com')?.records, records.TXT);
    // Nothing read through a failed validation is judged: no spf or dmarc finding.
    assert.equal(r.categories.find((c) => c.id === 'dnssec')?.status, 'fail');
    assert.ok(r.categories.filter((c) => c.id !== 'dnssec').every((c) => c.status === 'error'));
  });

  it('a zone whose apex MX alone fails validation: the rest of the audit goes on', async () => {
    const r = await audit({
      'example.com': { ...records, bogus: ['MX'] },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@example.com') },
      's1._domainkey.example.com': { TXT: txt('v=DKIM1; p=') },
    });
    assert.deepEqual(
      codes(r),
      ['dkim.revoked', 'dns.lookup_failed', 'dnssec.bogus', 'mta_sts.missing', 'tlsrpt.missing', 'bimi.missing'].sort(),
    );
    const failedLookup = r.findings.find((f) => f.code === 'dns.lookup_failed');
    assert.deepEqual([failedLookup?.params.name, failedLookup?.params.type], ['example.com', 'MX']);
    assert.equal(r.categories.find((c) => c.id === 'mx')?.status, 'error');
    assert.equal(r.categories.find((c) => c.id === 'dmarc')?.status, 'pass');
    const dnssec = r.evidence.dnssec as {
      state: string;
      unvalidated: { name: string; type: string; records: unknown[] }[];
    };
    assert.equal(dnssec.state, 'bogus');
    assert.deepEqual(dnssec.unvalidated, [
      { name: 'example.com', type: 'MX', status: 'ok', records: records.MX, validated: false },
    ]);
  });

  it("a SERVFAIL that a CD query does not answer either is a lookup failure, not DNSSEC: the domain's nameservers failed", async () => {
    const r = await audit({ 'example.com': { ...records, MX: 'servfail' } });
    assert.deepEqual(codes(r), ['dns.lookup_failed', 'domain.dns_failed']);
    assert.deepEqual(r.evidence.domain, { exists: 'unknown' });
    assert.deepEqual([r.outcome, r.grade], ['partial', 'F']);
  });
});
