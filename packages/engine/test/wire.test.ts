/**
 * The hot-path DNS codec (dns/wire.ts) against messages built by another codec (dns2) and by
 * hand, and the shared answer cache (dns/cache.ts) against a counting stub.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packet } from 'dns2';
import { DnsCache } from '../src/dns/cache.js';
import type { RRType } from '../src/dns/records.js';
import type { DnsAnswer, DnsStatus } from '../src/dns/resolver.js';
import { decodeAnswer, encodeQuery, WireError } from '../src/dns/wire.js';

type Rr = Packet['answers'][number];
const rr = (x: Record<string, unknown>): Rr => ({ class: Packet.CLASS.IN, ttl: 300, ...x }) as unknown as Rr;

function message(fill: (p: Packet) => void, qname = 'example.test', qtype: number = Packet.TYPE.TXT): Buffer {
  const p = new Packet();
  p.header.id = 4242;
  p.header.qr = 1;
  p.questions.push({ name: qname, type: qtype, class: Packet.CLASS.IN } as Packet['questions'][number]);
  fill(p);
  return p.toBuffer();
}

describe('wire: the query', () => {
  it('encodes what dns2 reads back: the name, type, RD, CD and an OPT record with DO', () => {
    const q = Packet.parse(encodeQuery(7, 'Mail.Example.test.', 16, true));
    assert.equal(q.header.id, 7);
    assert.equal(q.header.rd, 1);
    assert.equal((q.header as unknown as { cd: number }).cd, 1);
    assert.deepEqual(
      q.questions.map((x) => [x.name, x.type]),
      [['Mail.Example.test', 16]],
    );
    const opt = q.additionals[0] as unknown as { type: number; doFlag: boolean; class: number };
    assert.equal(opt.type, Packet.TYPE.EDNS);
    assert.equal(opt.doFlag, true);
    assert.equal(opt.class, 1232);
    assert.equal(Packet.parse(encodeQuery(8, '', 2, false)).questions[0]?.name, '');
  });

  it('refuses names the wire cannot carry', () => {
    assert.throws(() => encodeQuery(1, `${'a'.repeat(64)}.test`, 1, false), WireError);
    assert.throws(() => encodeQuery(1, 'a..test', 1, false), WireError);
    assert.throws(() => encodeQuery(1, 'ü.test', 1, false), WireError);
    assert.throws(() => encodeQuery(1, `${'abcdefghi.'.repeat(26)}test`, 1, false), WireError);
  });
});

describe('wire: the answer', () => {
  it('decodes the type asked and CNAMEs, skips the rest (RRSIG), keeps TXT strings apart', () => {
    const msg = message((p) => {
      (p.header as unknown as { ad: number }).ad = 1;
      p.answers.push(rr({ name: 'example.test', type: Packet.TYPE.CNAME, domain: 'Alias.Example.test', ttl: 50 }));
      p.answers.push(rr({ name: 'alias.example.test', type: Packet.TYPE.TXT, data: ['v=spf1 ', 'mx -all'] }));
      p.answers.push(rr({ name: 'alias.example.test', type: Packet.TYPE.A, address: '192.0.2.1' }));
      p.answers.push(rr({ name: 'alias.example.test', type: 46, data: Buffer.alloc(40, 1) }));
    });
    const a = decodeAnswer(msg, Packet.TYPE.TXT);
    assert.equal(a.id, 4242);
    assert.equal(a.ad, true);
    assert.equal(a.qname, 'example.test');
    assert.equal(a.qtype, Packet.TYPE.TXT);
    assert.deepEqual(a.records, [
      { owner: 'example.test', type: 5, ttl: 50, value: 'alias.example.test' },
      {
        owner: 'alias.example.test',
        type: 16,
        ttl: 300,
        value: { strings: ['v=spf1 ', 'mx -all'], text: 'v=spf1 mx -all' },
      },
    ]);
  });

  it('decodes MX, AAAA, SRV, SOA, DS and TLSA as records.ts types them', () => {
    const one = (type: number, x: Record<string, unknown>) =>
      decodeAnswer(
        message((p) => p.answers.push(rr({ name: 'example.test', type, ...x })), 'example.test', type),
        type,
      ).records[0]?.value;
    assert.deepEqual(one(Packet.TYPE.MX, { exchange: 'MX1.example.test', priority: 10 }), {
      preference: 10,
      exchange: 'mx1.example.test',
    });
    assert.equal(one(Packet.TYPE.AAAA, { address: 'fd00:0:0:0:0:0:0:1' }), 'fd00::1');
    assert.equal(one(Packet.TYPE.AAAA, { address: '2001:db8:0:1:0:0:0:0' }), '2001:db8:0:1::');
    assert.equal(one(Packet.TYPE.AAAA, { address: '2001:db8:0:1:1:1:1:1' }), '2001:db8:0:1:1:1:1:1');
    assert.deepEqual(one(Packet.TYPE.SRV, { priority: 1, weight: 2, port: 993, target: 'imap.example.test' }), {
      priority: 1,
      weight: 2,
      port: 993,
      target: 'imap.example.test',
    });
    assert.deepEqual(
      one(Packet.TYPE.SOA, {
        primary: 'ns.example.test',
        admin: 'hostmaster.example.test',
        serial: 9,
        refresh: 1,
        retry: 2,
        expiration: 3,
        minimum: 60,
      }),
      { primary: 'ns.example.test', admin: 'hostmaster.example.test', serial: 9, minimum: 60 },
    );
    assert.deepEqual(one(43, { data: Buffer.from([0x12, 0x34, 13, 2, 0xab, 0xcd]) }), {
      keyTag: 0x1234,
      algorithm: 13,
      digestType: 2,
      digest: 'abcd',
    });
    assert.deepEqual(one(52, { data: Buffer.from([3, 1, 1, 0xee]) }), {
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: 'ee',
    });
  });

  it("reads a negative answer's TTL from the authority's SOA (RFC 2308 5) and the extended rcode", () => {
    const msg = message((p) => {
      p.header.rcode = 3;
      p.authorities.push(
        rr({
          name: 'test',
          type: Packet.TYPE.SOA,
          ttl: 900,
          primary: 'ns.test',
          admin: 'h.test',
          serial: 1,
          refresh: 1,
          retry: 1,
          expiration: 1,
          minimum: 120,
        }),
      );
    });
    const a = decodeAnswer(msg, Packet.TYPE.TXT);
    assert.equal(a.rcode, 3);
    assert.equal(a.negativeTtl, 120);
    // BADVERS (16): 4 bits in the header, the upper 8 in the OPT record's TTL.
    const opt = Buffer.from([0, 0, 41, 4, 0xd0, 1, 0, 0x80, 0, 0, 0]);
    const badvers = Buffer.concat([message(() => {}), opt]);
    badvers.writeUInt16BE(1, 10);
    assert.equal(decodeAnswer(badvers, Packet.TYPE.TXT).rcode, 16);
  });

  it('drops a record whose rdata does not parse, keeps the others', () => {
    const msg = message(
      (p) => {
        p.answers.push(rr({ name: 'example.test', type: Packet.TYPE.A, address: '192.0.2.1' }));
        p.answers.push(rr({ name: 'example.test', type: Packet.TYPE.A, address: '192.0.2.2' }));
      },
      'example.test',
      Packet.TYPE.A,
    );
    // The second A record's RDLENGTH says 3 and the message ends one octet earlier.
    const bad = Buffer.from(msg.subarray(0, msg.length - 1));
    bad.writeUInt16BE(3, bad.length - 5);
    assert.deepEqual(
      decodeAnswer(bad, Packet.TYPE.A).records.map((r) => r.value),
      ['192.0.2.1'],
    );
  });

  it('throws WireError for a message that breaks the format', () => {
    const ok = message((p) => p.answers.push(rr({ name: 'example.test', type: Packet.TYPE.TXT, data: ['x'] })));
    assert.throws(() => decodeAnswer(ok.subarray(0, 11), 16), WireError);
    assert.throws(() => decodeAnswer(ok.subarray(0, ok.length - 2), 16), WireError);
    // A compression pointer to itself, as the answer's owner.
    const loop = Buffer.from(ok);
    const at = 12 + 'example.test'.length + 2 + 4;
    loop.writeUInt16BE(0xc000 | at, at);
    assert.throws(() => decodeAnswer(loop, 16), WireError);
    // A label type that does not exist (0x40).
    const label = Buffer.from(ok);
    label[12] = 0x47;
    assert.throws(() => decodeAnswer(label, 16), WireError);
  });
});

describe('DnsCache', () => {
  function counting(answers: Record<string, { status: DnsStatus; ttl?: number }>) {
    const asked: string[] = [];
    const client = {
      async query<T extends RRType>(name: string, type: T): Promise<DnsAnswer<T>> {
        asked.push(`${name} ${type}`);
        await new Promise((r) => setTimeout(r, 5));
        const a = answers[name] ?? { status: 'nxdomain' };
        return { name, type, records: [], cnames: [], ad: false, rcode: 0, ...a } as DnsAnswer<T>;
      },
    };
    return { client, asked };
  }

  it('asks an identical question in flight once, then answers from the cache within the TTL', async () => {
    let now = 1_000_000;
    const { client, asked } = counting({ 'a.test': { status: 'ok', ttl: 10 } });
    const cache = new DnsCache(client, { now: () => now });
    const [x, y] = await Promise.all([cache.query('a.test', 'TXT'), cache.query('A.test.', 'TXT')]);
    assert.equal(x, y);
    assert.deepEqual(asked, ['a.test TXT']);
    now += 8_000;
    await cache.query('a.test', 'TXT');
    assert.equal(asked.length, 1);
    // Kept for the TTL less one second, so as never to outlive the resolver's own copy.
    now += 1_500;
    await cache.query('a.test', 'TXT');
    assert.equal(asked.length, 2);
    await cache.query('a.test', 'TXT', { cd: true });
    assert.equal(asked.length, 3);
    assert.deepEqual(cache.stats, { lookups: 5, hits: 1, joined: 1, misses: 3 });
  });

  it('keeps negative answers with a TTL, never failures, nor answers without a TTL', async () => {
    const { client, asked } = counting({
      'nx.test': { status: 'nxdomain', ttl: 60 },
      'fail.test': { status: 'servfail', ttl: 60 },
      'timeout.test': { status: 'timeout' },
      'nottl.test': { status: 'nodata' },
    });
    const cache = new DnsCache(client);
    for (let i = 0; i < 2; i++) {
      for (const n of ['nx.test', 'fail.test', 'timeout.test', 'nottl.test']) await cache.query(n, 'MX');
    }
    assert.deepEqual(asked, [
      'nx.test MX',
      'fail.test MX',
      'timeout.test MX',
      'nottl.test MX',
      'fail.test MX',
      'timeout.test MX',
      'nottl.test MX',
    ]);
  });

  it('stays within its size, the oldest going first', async () => {
    const { client, asked } = counting(
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`n${i}.test`, { status: 'ok' as const, ttl: 300 }])),
    );
    const cache = new DnsCache(client, { maxEntries: 20 });
    for (let i = 0; i < 30; i++) await cache.query(`n${i}.test`, 'A');
    assert.ok(cache.size <= 20);
    await cache.query('n29.test', 'A');
    assert.equal(asked.length, 30);
    await cache.query('n0.test', 'A');
    assert.equal(asked.length, 31);
  });

  it('keeps the names asked again and again, letting the ones asked once go first', async () => {
    let now = 1_000_000;
    const { client, asked } = counting(
      Object.fromEntries(
        ['mx.hoster.test', ...Array.from({ length: 50 }, (_, i) => `d${i}.test`)].map((n) => [
          n,
          { status: 'ok' as const, ttl: 300 },
        ]),
      ),
    );
    const cache = new DnsCache(client, { maxEntries: 10, now: () => now });
    // Each domain's own name once, the hoster's mail host by every one of them.
    for (let i = 0; i < 50; i++) {
      await cache.query(`d${i}.test`, 'MX');
      await cache.query('mx.hoster.test', 'A');
    }
    assert.equal(asked.filter((q) => q === 'mx.hoster.test A').length, 1);
    assert.equal(cache.size, 10);
    // The least recently used went: the first domains', not the last ones'.
    await cache.query('d49.test', 'MX');
    assert.equal(asked.length, 51);
    await cache.query('d0.test', 'MX');
    assert.equal(asked.length, 52);
    // Stale entries at the old end go as the cache is used, even when it has room.
    now += 600_000;
    await cache.query('mx.hoster.test', 'A');
    assert.equal(cache.size, 1);
  });
});
