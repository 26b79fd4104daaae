/**
 * The lab's DNS, asked through its validating resolver exactly as an audit will ask it: declared
 * records answer as declared, signed zones validate (AD), the broken zone fails validation, the
 * lame delegation fails, PTR, TLSA and DNSBL answers are what the scenarios rely on.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  AUTH_ADDRESS,
  BLACKHOLE_ADDRESS,
  DOMAIN_BLOCKLIST,
  ensureLab,
  GOOD_MX,
  IP_BLOCKLIST,
  type LabAnswer,
  type LabInfo,
  labQuery,
  reverseName,
  typeCode,
} from '@mailaudit/lab';

let lab: LabInfo;
const ask = (name: string, type: string, opts = {}): Promise<LabAnswer> => labQuery(lab.resolver, name, type, opts);

/** Presentation of an answer's data, comparable with the declared zone-file RDATA. */
function rdata(r: LabAnswer['answers'][number]): string {
  const a = r as unknown as Record<string, unknown>;
  switch (r.type) {
    case 1:
      return String(a.address);
    case 5:
    case 12:
      return `${String(a.domain)}.`;
    case 15:
      return `${a.priority} ${String(a.exchange) || '.'}${a.exchange ? '.' : ''}`;
    case 16:
      return ([] as string[]).concat(a.data as string | string[]).join('');
    default:
      return JSON.stringify(a);
  }
}

before(async () => {
  lab = await ensureLab();
});

describe('lab DNS through the resolver', () => {
  it('answers every declared A, MX, CNAME, PTR and TXT record with its declared data', async () => {
    const bogus = new Set(
      lab.model.zones.filter((z) => z.dnssec === 'bogus' || z.dnssec === 'ds-mismatch').map((z) => z.apex),
    );
    const checked = lab.model.records.filter(
      (r) =>
        typeof r.data === 'string' &&
        ['A', 'MX', 'CNAME', 'TXT'].includes(r.type) &&
        ![...bogus].some((z) => r.name === z || r.name.endsWith(`.${z}`)),
    );
    assert.ok(checked.length > 80, `only ${checked.length} records checked`);
    for (const r of checked) {
      const a = await ask(r.name, r.type);
      assert.equal(a.rcode, 0, `${r.name} ${r.type}: rcode ${a.rcode}`);
      const got = a.answers.filter((x) => x.type === typeCode(r.type)).map(rdata);
      assert.ok(got.includes(String(r.data)), `${r.name} ${r.type}: wanted ${String(r.data)}, got ${got.join(' | ')}`);
    }
  });

  it('sets AD on answers from signed zones and not on the unsigned one', async () => {
    for (const [name, type] of [
      ['good.test', 'MX'],
      ['good.test', 'TXT'],
      ['_dmarc.good.test', 'TXT'],
      [GOOD_MX, 'A'],
      ['sub.dmarc-org.test', 'MX'],
    ] as const) {
      const a = await ask(name, type);
      assert.equal(a.rcode, 0, `${name} ${type}`);
      assert.equal(a.ad, true, `${name} ${type} should validate`);
    }
    const unsigned = await ask('dnssec-unsigned.test', 'MX');
    assert.equal(unsigned.rcode, 0);
    assert.ok(unsigned.answers.length > 0);
    assert.equal(unsigned.ad, false);
  });

  it('proves NXDOMAIN for a name that does not exist, with a validated denial', async () => {
    const a = await ask('nxdomain.test', 'MX');
    assert.equal(a.rcode, 3);
    assert.equal(a.ad, true);
  });

  it('answers NODATA (not NXDOMAIN) for a missing type at an existing name', async () => {
    const a = await ask('spf-missing.test', 'TXT');
    assert.equal(a.rcode, 0);
    assert.equal(a.answers.filter((r) => r.type === 16).length, 0);
  });

  it('SERVFAILs the altered record of the bogus zone, which a CD query returns', async () => {
    const a = await ask('dnssec-bogus.test', 'TXT');
    assert.equal(a.rcode, 2);
    const cd = await ask('dnssec-bogus.test', 'TXT', { cd: true });
    assert.equal(cd.rcode, 0);
    assert.ok(cd.answers.some((r) => r.type === 16 && rdata(r).includes('tampered-after-signing')));
  });

  it('SERVFAILs every answer of the zone whose DS matches none of its keys, which CD queries return', async () => {
    for (const [name, type] of [
      ['dnssec-ds-mismatch.test', 'MX'],
      ['dnssec-ds-mismatch.test', 'SOA'],
      ['dnssec-ds-mismatch.test', 'TXT'],
      ['_dmarc.dnssec-ds-mismatch.test', 'TXT'],
    ] as const) {
      assert.equal((await ask(name, type)).rcode, 2, `${name} ${type}`);
      const cd = await ask(name, type, { cd: true });
      assert.equal(cd.rcode, 0, `${name} ${type} +cd`);
      assert.ok(cd.answers.length > 0, `${name} ${type} +cd`);
    }
  });

  it('SERVFAILs the altered apex MX of its zone and validates the rest of it', async () => {
    assert.equal((await ask('dnssec-bogus-mx.test', 'MX')).rcode, 2);
    const cd = await ask('dnssec-bogus-mx.test', 'MX', { cd: true });
    assert.deepEqual(cd.answers.filter((r) => r.type === 15).map(rdata), [`99 ${GOOD_MX}.`]);
    for (const type of ['SOA', 'TXT']) {
      const a = await ask('dnssec-bogus-mx.test', type);
      assert.equal(a.rcode, 0, type);
      assert.equal(a.ad, true, type);
    }
  });

  it('SERVFAILs the delegation to the nameserver that never answers', async () => {
    const a = await ask('lame.test', 'MX', { timeoutMs: 8000 });
    assert.equal(a.rcode, 2);
    // The nameserver itself takes the query and stays silent.
    await assert.rejects(labQuery(`${BLACKHOLE_ADDRESS}:53`, 'lame.test', 'SOA', { rd: false, timeoutMs: 500 }), {
      code: 'ETIMEOUT',
    });
  });

  it('answers PTR for each mail host as declared', async () => {
    for (const h of lab.model.hosts) {
      const a = await ask(reverseName(h.address), 'PTR');
      const ptr = h.ptr ?? 'match';
      if (ptr === 'none') {
        assert.equal(a.rcode, 3, `${h.address} should have no PTR`);
        continue;
      }
      const want = ptr === 'match' ? h.name : ptr.name;
      assert.deepEqual(a.answers.filter((r) => r.type === 12).map(rdata), [`${want}.`], h.address);
    }
  });

  it('serves validated TLSA records for the hosts that declare one', async () => {
    for (const h of lab.model.hosts.filter((x) => x.tlsa)) {
      const a = await ask(`_25._tcp.${h.name}`, 'TLSA');
      assert.equal(a.rcode, 0, h.name);
      assert.equal(a.ad, true, `${h.name} TLSA should validate`);
      assert.equal(a.answers.filter((r) => r.type === 52).length, 1, h.name);
    }
  });

  it('answers the DNSBL zones: listed, error code, not listed, domain list', async () => {
    const entry = (addr: string) => `${addr.split('.').reverse().join('.')}.${IP_BLOCKLIST}`;
    for (const h of lab.model.hosts) {
      const a = await ask(entry(h.address), 'A');
      if (!h.dnsbl) {
        assert.equal(a.rcode, 3, `${h.address} must not be listed`);
        continue;
      }
      const want = h.dnsbl === 'listed' ? '127.0.0.2' : '127.255.255.254';
      assert.deepEqual(a.answers.filter((r) => r.type === 1).map(rdata), [want], h.address);
      if (h.dnsbl === 'listed') {
        const txt = await ask(entry(h.address), 'TXT');
        assert.match(rdata(txt.answers[0] as LabAnswer['answers'][number]), /Listed by the mailaudit lab/);
      }
    }
    // The built-in Spamhaus zones are mirrored by the lab, so that default lists work offline too.
    for (const h of lab.model.hosts.filter((x) => x.dnsbl)) {
      const mirrored = await ask(`${h.address.split('.').reverse().join('.')}.zen.spamhaus.org`, 'A');
      assert.equal(mirrored.answers.length, 1, h.address);
    }
    const testPoint = await ask(`2.0.0.127.${IP_BLOCKLIST}`, 'A');
    assert.deepEqual(testPoint.answers.map(rdata), ['127.0.0.2']);
    for (const d of lab.model.listedDomains) {
      const a = await ask(`${d}.${DOMAIN_BLOCKLIST}`, 'A');
      assert.deepEqual(a.answers.filter((r) => r.type === 1).map(rdata), ['127.0.1.2']);
    }
    assert.equal((await ask(`good.test.${DOMAIN_BLOCKLIST}`, 'A')).rcode, 3);
  });

  it('keeps every lookup on the machine: unknown top-level names are NXDOMAIN from the lab root', async () => {
    const a = await ask('example.com', 'A');
    assert.equal(a.rcode, 3);
    const direct = await labQuery(`${AUTH_ADDRESS}:53`, 'com', 'NS', { rd: false });
    assert.equal(direct.rcode, 3);
    assert.equal(direct.aa, true);
  });
});
