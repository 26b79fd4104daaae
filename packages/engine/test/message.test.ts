/**
 * Test messages with stubbed DNS: mailauth's results through the resolver adapter, and the
 * message.* findings with their exact conditions. Messages are signed here with mailauth's own
 * signer and keys made for the test; the lab tests (tests/messages) send real ones over SMTP.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { dkimSign, sealMessage } from 'mailauth';
import { AuditDns } from '../src/dns/audit-dns.js';
import { analyzeMessage, type MessageInput, type MessageOptions, selectorsFound } from '../src/message/index.js';
import { addressOfReverseName, mailauthResolver } from '../src/message/resolver.js';
import { type StubZone, stubDns, txt } from './helpers/stub-dns.js';

function rsaKey(bits: number) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
const key = rsaKey(2048);
const espKey = rsaKey(2048);
const weakKey = rsaKey(512);

// Public addresses (never contacted: DNS is stubbed), so that the private-address guard lets their PTR be asked.
const SENDER_IP = '93.184.216.10';
const OTHER_IP = '151.101.1.20';

/** example.com signs with s2026, sends from 93.184.216.10, p=reject; esp.example signs for others. */
function zone(extra: StubZone = {}): StubZone {
  return {
    'example.com': { TXT: txt(`v=spf1 ip4:${SENDER_IP} -all`), MX: [{ preference: 10, exchange: 'mx.example.com' }] },
    '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject; rua=mailto:d@example.com') },
    's2026._domainkey.example.com': { TXT: txt(key.record) },
    'weak._domainkey.example.com': { TXT: txt(weakKey.record) },
    'out.example.com': { A: [SENDER_IP] },
    '10.216.184.93.in-addr.arpa': { PTR: ['out.example.com'] },
    'esp.example': { TXT: txt(`v=spf1 ip4:${OTHER_IP} -all`) },
    'k1._domainkey.esp.example': { TXT: txt(espKey.record) },
    'soft.example': { TXT: txt('v=spf1 ~all') },
    'nodmarc.example': { TXT: txt(`v=spf1 ip4:${SENDER_IP} -all`) },
    'lax.example': { TXT: txt('v=spf1 -all') },
    '_dmarc.lax.example': { TXT: txt('v=DMARC1; p=none') },
    ...extra,
  };
}

function message(from = 'Alice <alice@example.com>', body = 'Hello from the test.\r\n', extraHeaders = ''): Buffer {
  return Buffer.from(
    `From: ${from}\r\nTo: t-abc@check.example.net\r\nSubject: test\r\nDate: Wed, 02 Dec 2026 12:00:00 +0000\r\n` +
      `Message-ID: <m1@example.com>\r\n${extraHeaders}MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}`,
  );
}

async function sign(msg: Buffer, domain = 'example.com', selector = 's2026', pem = key.pem, algorithm?: string) {
  const entry = { signingDomain: domain, selector, privateKey: pem, ...(algorithm ? { algorithm } : {}) };
  const { signatures } = await dkimSign(msg, { ...entry, signatureData: [entry] });
  assert.ok(signatures, 'signed');
  return Buffer.concat([Buffer.from(signatures), msg]);
}

const NOW = new Date('2026-12-02T12:00:05Z');

async function analyze(
  input: Partial<MessageInput> & { message: Buffer },
  z: StubZone = zone(),
  options: MessageOptions = {},
) {
  const dns = stubDns(z);
  const report = await analyzeMessage(
    { ip: SENDER_IP, helo: 'out.example.com', mailFrom: 'bounce@example.com', tls: { version: 'TLSv1.3' }, ...input },
    { ipBlocklists: ['bl.example'], ...options },
    { dns, now: () => NOW },
  );
  return { report, asked: dns.asked };
}

const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code).sort();

describe('message analysis', () => {
  it('an aligned, signed message from an authorized address passes everything and reports nothing', async () => {
    const { report } = await analyze({ message: await sign(message()) });
    assert.equal(report.schema, 'mailaudit.message/1');
    assert.equal(report.spf.result, 'pass');
    assert.equal(report.spf.domain, 'example.com');
    assert.deepEqual(
      report.dkim.map((s) => [s.domain, s.selector, s.result, s.aligned, s.keyBits, s.bodyHash]),
      [['example.com', 's2026', 'pass', true, 2048, 'pass']],
    );
    assert.equal(report.dmarc.result, 'pass');
    assert.equal(report.dmarc.policy, 'reject');
    assert.deepEqual(report.dmarc.alignment, { spf: 'example.com', dkim: 'example.com' });
    assert.equal(report.arc.result, 'none');
    assert.equal(report.iprev.result, 'pass');
    assert.deepEqual(report.iprev.names, ['out.example.com']);
    assert.equal(report.helo.result, 'pass');
    assert.equal(report.outcome, 'complete');
    assert.deepEqual(report.headers, {
      from: ['alice@example.com'],
      fromFields: 1,
      date: 'Wed, 02 Dec 2026 12:00:00 +0000',
      messageId: '<m1@example.com>',
    });
    assert.match(report.authenticationResults, /^mailaudit\.invalid;/);
    assert.match(report.authenticationResults, /dkim=pass .*header\.s=s2026/);
    assert.deepEqual(codes(report), []);
    assert.deepEqual(selectorsFound(report, 'example.com'), ['s2026']);
    assert.deepEqual(selectorsFound(report, 'other.example'), []);
  });

  it('a body changed after signing: message.dkim.body_hash, DMARC still passes on aligned SPF', async () => {
    const signed = (await sign(message())).toString().replace('Hello from the test.', 'Hello from a forger.');
    const { report } = await analyze({ message: Buffer.from(signed) });
    assert.equal(report.dkim[0]?.bodyHash, 'fail');
    assert.equal(report.dkim[0]?.result, 'neutral');
    assert.equal(report.dmarc.result, 'pass');
    assert.deepEqual(codes(report), ['message.dkim.body_hash']);
    assert.equal(report.findings[0]?.subject, 's2026._domainkey.example.com');
    assert.deepEqual(selectorsFound(report, 'example.com'), []);
  });

  it('an unsigned message: message.dkim.missing and an empty signature list', async () => {
    const { report } = await analyze({ message: message() });
    assert.deepEqual(report.dkim, []);
    assert.equal(report.dmarc.result, 'pass');
    assert.deepEqual(codes(report), ['message.dkim.missing']);
    // A DKIM-Signature with no usable tags is ignored by verifiers: the message counts as unsigned.
    const garbage = await analyze({ message: Buffer.concat([Buffer.from('DKIM-Signature: garbage\r\n'), message()]) });
    assert.deepEqual(garbage.report.dkim, []);
    assert.deepEqual(codes(garbage.report), ['message.dkim.missing']);
  });

  it('SPF fail from an address the domain does not list, DMARC passing on DKIM', async () => {
    const { report } = await analyze({ message: await sign(message()), ip: OTHER_IP, helo: 'out.example.com' });
    assert.equal(report.spf.result, 'fail');
    assert.equal(report.dmarc.result, 'pass');
    assert.equal(report.dmarc.alignment.spf, null);
    // No PTR for 151.101.1.20 in the stub; out.example.com resolves to the other address.
    assert.deepEqual(codes(report), ['message.helo.mismatch', 'message.iprev.missing', 'message.spf.fail']);
    const spf = report.findings.find((f) => f.code === 'message.spf.fail');
    assert.equal(spf?.severity, 'critical');
    assert.equal(spf?.subject, 'example.com');
  });

  it('DMARC fail under p=reject: critical; signed only by another domain: message.dkim.unaligned', async () => {
    const { report } = await analyze({
      message: await sign(message(), 'esp.example', 'k1', espKey.pem),
      ip: OTHER_IP,
      helo: '[151.101.1.20]',
      mailFrom: 'bounce@example.com',
    });
    assert.equal(report.spf.result, 'fail');
    assert.deepEqual(
      report.dkim.map((s) => [s.domain, s.result, s.aligned]),
      [['esp.example', 'pass', false]],
    );
    assert.equal(report.dmarc.result, 'fail');
    assert.equal(report.helo.result, 'pass', 'an address literal naming the sending address');
    assert.deepEqual(codes(report), [
      'message.dkim.unaligned',
      'message.dmarc.fail',
      'message.iprev.missing',
      'message.spf.fail',
    ]);
    assert.equal(report.findings.find((f) => f.code === 'message.dmarc.fail')?.severity, 'critical');
  });

  it('DMARC fail under p=none is a warning; softfail and neutral results', async () => {
    const lax = await analyze({ message: message('a@lax.example'), mailFrom: 'b@lax.example' });
    assert.equal(lax.report.spf.result, 'fail');
    assert.equal(lax.report.dmarc.result, 'fail');
    assert.equal(lax.report.findings.find((f) => f.code === 'message.dmarc.fail')?.severity, 'warning');
    const soft = await analyze({ message: await sign(message()), mailFrom: 'b@soft.example' });
    assert.equal(soft.report.spf.result, 'softfail');
    assert.ok(codes(soft.report).includes('message.spf.softfail'));
    assert.equal(soft.report.dmarc.result, 'pass');
  });

  it('no SPF and no DMARC record: message.spf.none and message.dmarc.none, never a failure', async () => {
    const { report } = await analyze(
      { message: message('a@bare.example'), mailFrom: 'b@bare.example' },
      zone({ 'bare.example': { A: ['93.184.216.99'] } }),
    );
    assert.equal(report.spf.result, 'none');
    assert.equal(report.dmarc.result, 'none');
    assert.deepEqual(codes(report), ['message.dkim.missing', 'message.dmarc.none', 'message.spf.none']);
  });

  it('a selector without a key, and a key under 1024 bits', async () => {
    const nokey = await analyze({ message: await sign(message(), 'example.com', 'gone') });
    assert.equal(nokey.report.dkim[0]?.comment, 'no key');
    assert.ok(codes(nokey.report).includes('message.dkim.key_missing'));
    const weak = await analyze({ message: await sign(message(), 'example.com', 'weak', weakKey.pem) });
    assert.equal(weak.report.dkim[0]?.result, 'policy');
    assert.ok(codes(weak.report).includes('message.dkim.key_weak'));
  });

  it('a broken signature value: message.dkim.fail', async () => {
    const signed = (await sign(message()))
      .toString()
      .replace(/\bb=([A-Za-z0-9+/])/, (_m, c) => `b=${c === 'A' ? 'B' : 'A'}`);
    const { report } = await analyze({ message: Buffer.from(signed) });
    assert.equal(report.dkim[0]?.result, 'fail');
    assert.deepEqual(codes(report), ['message.dkim.fail']);
  });

  it('rsa-sha1: message.dkim.sha1 though the signature passes', async () => {
    const { report } = await analyze({ message: await sign(message(), 'example.com', 's2026', key.pem, 'rsa-sha1') });
    assert.equal(report.dkim[0]?.result, 'pass');
    assert.deepEqual(codes(report), ['message.dkim.sha1']);
  });

  it('no single author domain: message.from.invalid, DMARC permerror', async () => {
    const two = await analyze({ message: await sign(message('a@example.com, b@esp.example')) });
    assert.equal(two.report.fromDomain, null);
    assert.equal(two.report.dmarc.result, 'permerror');
    assert.ok(codes(two.report).includes('message.from.invalid'));
    const fields = await analyze({
      message: await sign(message('a@example.com', undefined, 'From: b@example.com\r\n')),
    });
    assert.equal(fields.report.headers.fromFields, 2);
    assert.equal(fields.report.dmarc.result, 'permerror');
    assert.ok(codes(fields.report).includes('message.from.invalid'));
    // Two addresses of one domain have one author domain (RFC 7489 6.6.1): DMARC applies.
    const same = await analyze({ message: await sign(message('a@example.com, b@example.com')) });
    assert.equal(same.report.fromDomain, 'example.com');
    assert.equal(same.report.dmarc.result, 'pass');
    assert.ok(!codes(same.report).includes('message.from.invalid'));
  });

  it('a From domain that is not the tested domain: message.from.other_domain', async () => {
    const { report } = await analyze({ message: await sign(message()), domain: 'tested.example' });
    assert.deepEqual(codes(report), ['message.from.other_domain']);
    const sub = await analyze({ message: await sign(message()), domain: 'example.com' });
    assert.deepEqual(codes(sub.report), []);
  });

  it('TLS: none and legacy versions', async () => {
    const plain = await analyze({ message: await sign(message()), tls: null });
    assert.deepEqual(codes(plain.report), ['message.tls.none']);
    const legacy = await analyze({ message: await sign(message()), tls: { version: 'TLSv1', cipher: 'AES128-SHA' } });
    assert.deepEqual(codes(legacy.report), ['message.tls.legacy']);
    const unknown = await analyze({ message: await sign(message()), tls: undefined });
    assert.equal(unknown.report.envelope.tls, undefined, 'a saved message says nothing about TLS');
    assert.deepEqual(codes(unknown.report), []);
  });

  it('reverse DNS that does not resolve back, and a listed sending address', async () => {
    const { report } = await analyze(
      { message: await sign(message()) },
      zone({
        '10.216.184.93.in-addr.arpa': { PTR: ['elsewhere.example.com'] },
        'elsewhere.example.com': { A: ['93.184.216.200'] },
        '10.216.184.93.bl.example': { A: ['127.0.0.2'] },
      }),
    );
    assert.equal(report.iprev.result, 'fail');
    assert.deepEqual(codes(report), ['message.blocklist.listed', 'message.iprev.mismatch']);
    assert.deepEqual(report.blocklists, [{ zone: 'bl.example', state: 'listed', answer: '127.0.0.2' }]);
  });

  it('a HELO that is not a host name, or names nothing', async () => {
    const bare = await analyze({ message: await sign(message()), helo: 'localhost' });
    assert.equal(bare.report.helo.result, 'fail');
    assert.ok(codes(bare.report).includes('message.helo.mismatch'));
    const gone = await analyze({ message: await sign(message()), helo: 'gone.example.com' });
    assert.equal(gone.report.helo.comment, 'the name does not exist');
  });

  it('could not look is not "no record": an SPF lookup that times out gives temperror and dns.lookup_failed only', async () => {
    const z = zone();
    z['example.com'] = { ...z['example.com'], TXT: 'timeout' };
    const { report } = await analyze({ message: await sign(message()) }, z);
    assert.equal(report.spf.result, 'temperror');
    assert.equal(report.outcome, 'partial');
    assert.deepEqual(codes(report), ['dns.lookup_failed']);
    assert.equal(report.findings[0]?.category, 'spf');
    assert.equal(report.dmarc.result, 'pass', 'DKIM still aligns');
  });

  it('a DKIM key lookup that fails is temperror, not a missing key', async () => {
    const { report } = await analyze(
      { message: await sign(message()) },
      zone({ 's2026._domainkey.example.com': { TXT: 'servfail' } }),
    );
    assert.equal(report.dkim[0]?.result, 'temperror');
    assert.deepEqual(codes(report), ['dns.lookup_failed']);
    assert.equal(report.findings[0]?.category, 'dkim');
  });

  it('a private sending address: no PTR or blocklist lookup without allowPrivateTargets', async () => {
    const input = { message: await sign(message()), ip: '10.1.2.3', helo: 'out.example.com' };
    const off = await analyze(input);
    assert.equal(off.report.iprev.result, 'none');
    assert.deepEqual(off.report.blocklists, []);
    assert.ok(!off.asked.some((q) => q.includes('in-addr.arpa') || q.includes('bl.example')), off.asked.join('\n'));
    assert.ok(!codes(off.report).some((c) => c.startsWith('message.iprev') || c.startsWith('message.blocklist')));
    const on = await analyze(input, zone(), { allowPrivateTargets: true });
    assert.ok(on.asked.includes('3.2.1.10.in-addr.arpa PTR'));
    assert.equal(on.report.iprev.result, 'permerror');
  });

  it('an IPv4 client seen as ::ffff:a.b.c.d is looked up as the IPv4 address', async () => {
    const { report, asked } = await analyze({ message: await sign(message()), ip: `::ffff:${SENDER_IP}` });
    assert.equal(report.envelope.ip, SENDER_IP);
    assert.equal(report.spf.result, 'pass');
    assert.equal(report.iprev.result, 'pass');
    assert.ok(asked.includes('10.216.184.93.in-addr.arpa PTR'));
  });

  it('a message that is no message at all is analysed, not thrown: no author, nothing signed', async () => {
    for (const junk of [
      Buffer.alloc(0),
      Buffer.from('\r\n\r\n'),
      Buffer.from([0, 255, 13, 10, 0x80, 0x81]),
      Buffer.from('no header at all'),
    ]) {
      const { report } = await analyze({ message: junk });
      assert.equal(report.fromDomain, null);
      assert.deepEqual(report.dkim, []);
      assert.equal(report.spf.result, 'pass', 'SPF depends on the envelope only');
      assert.ok(codes(report).includes('message.from.invalid'));
      assert.ok(codes(report).includes('message.dkim.missing'));
    }
  });

  it('an ARC chain that validates, and one broken after sealing', async () => {
    const signed = await sign(message('a@esp.example'), 'esp.example', 'k1', espKey.pem);
    const sealed = Buffer.concat([
      await sealMessage(signed, {
        signingDomain: 'example.com',
        selector: 's2026',
        privateKey: key.pem,
        authResults: 'example.com; dkim=pass header.d=esp.example',
        cv: 'none',
      }),
      signed,
    ]);
    const ok = await analyze({ message: sealed, mailFrom: 'b@esp.example', ip: OTHER_IP });
    assert.equal(ok.report.arc.result, 'pass');
    assert.equal(ok.report.arc.instance, 1);
    const broken = Buffer.from(sealed.toString().replace('Subject: test', 'Subject: tampered'));
    const bad = await analyze({ message: broken, mailFrom: 'b@esp.example', ip: OTHER_IP });
    assert.equal(bad.report.arc.result, 'fail');
    assert.ok(codes(bad.report).includes('message.arc.fail'));
  });
});

describe('the mailauth resolver adapter', () => {
  const z: StubZone = {
    'example.com': { TXT: txt('v=spf1 -all'), MX: [{ preference: 10, exchange: 'mx.example.com' }], A: ['192.0.2.1'] },
    'slow.example': { fail: 'timeout' },
    'broken.example': { fail: 'servfail' },
  };
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );

  it('answers in the shapes of node:dns', async () => {
    const r = mailauthResolver(new AuditDns(stubDns(z)), { allowPrivateTargets: false });
    assert.deepEqual(await r('example.com', 'TXT'), [['v=spf1 -all']]);
    assert.deepEqual(await r('example.com', 'MX'), [{ exchange: 'mx.example.com', priority: 10 }]);
    assert.deepEqual(await r('example.com', 'A'), ['192.0.2.1']);
  });

  it('keeps "no record" apart from "could not look"', async () => {
    const dns = new AuditDns(stubDns(z));
    const r = mailauthResolver(dns, { allowPrivateTargets: false });
    assert.equal(await code(r('nothing.example', 'TXT')), 'ENOTFOUND');
    assert.equal(await code(r('example.com', 'AAAA')), 'ENODATA');
    assert.equal(await code(r('slow.example', 'TXT')), 'ETIMEOUT');
    assert.equal(await code(r('broken.example', 'TXT')), 'ESERVFAIL');
    assert.equal(await code(r(`${'a'.repeat(64)}.example`, 'TXT')), 'EBADNAME');
    assert.equal(await code(r('example.com', 'SOA')), 'ENOTIMP');
    assert.deepEqual(
      dns.failures().map((f) => [f.name, f.category]),
      [
        ['slow.example', 'spf'],
        ['broken.example', 'spf'],
      ],
    );
  });

  it('guards PTR lookups of reserved addresses, and attributes lookups to their check', async () => {
    const stub = stubDns(z);
    const dns = new AuditDns(stub);
    const guarded = mailauthResolver(dns, { allowPrivateTargets: false });
    assert.equal(await code(guarded('1.0.0.127.in-addr.arpa', 'PTR')), 'EPRIVATE');
    assert.equal(await code(guarded('1.0.0.10.in-addr.arpa', 'PTR')), 'EPRIVATE');
    assert.equal(await code(guarded('1.2.0.192.in-addr.arpa', 'PTR')), 'EPRIVATE', 'documentation range');
    assert.equal(await code(guarded('10.216.184.93.in-addr.arpa', 'PTR')), 'ENOTFOUND', 'a public address is asked');
    assert.deepEqual(stub.asked, ['10.216.184.93.in-addr.arpa PTR']);
    const open = mailauthResolver(dns, { allowPrivateTargets: true });
    assert.equal(await code(open('1.0.0.127.in-addr.arpa', 'PTR')), 'ENOTFOUND');
  });

  it('reads addresses back from reverse names', () => {
    assert.equal(addressOfReverseName('4.3.2.1.in-addr.arpa.'), '1.2.3.4');
    assert.equal(addressOfReverseName(`1.${'0.'.repeat(28)}8.e.f.ip6.arpa`), 'fe80:0000:0000:0000:0000:0000:0000:0001');
    assert.equal(addressOfReverseName('example.com'), undefined);
  });
});
