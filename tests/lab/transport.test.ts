/**
 * The lab's mail and HTTPS hosts, each checked against its declaration: what SMTP, IMAP and POP3
 * offer before TLS, whether the handshake works, which certificate is served and how it verifies
 * against the lab CA, which TLS versions are accepted, and the MTA-STS policies served.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect } from 'node:net';
import { before, describe, it } from 'node:test';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { CLOSED_POLICY_ADDRESS, ensureLab, type HostSpec, type LabInfo, POLICY_ADDRESS } from '@mailaudit/lab';
import { describe as describeTls, LineClient, labTls, TLS10_ONLY, tryConnect } from '../helpers/wire.js';

let lab: LabInfo;
type Host = LabInfo['model']['hosts'][number];

before(async () => {
  lab = await ensureLab();
});

const DAY = 86_400_000;

/** Asserts the served certificate is what the host's declaration says. */
function assertCert(h: Host, where: string, r: ReturnType<typeof describeTls>): void {
  const kind = h.cert ?? 'good';
  const validTo = Date.parse(r.cert.valid_to);
  const nameError = checkServerIdentity(h.name, r.cert as PeerCertificate);
  switch (kind) {
    case 'good':
      assert.equal(r.authorizationError, undefined, `${where}: ${r.authorizationError}`);
      assert.equal(nameError, undefined, `${where}: name`);
      assert.ok(validTo > Date.now() + 300 * DAY, `${where}: expiry ${r.cert.valid_to}`);
      break;
    case 'expired':
      assert.equal(r.authorizationError, 'CERT_HAS_EXPIRED', where);
      assert.ok(validTo < Date.now(), where);
      break;
    case 'expiring':
      assert.equal(r.authorizationError, undefined, where);
      assert.ok(validTo > Date.now() && validTo < Date.now() + 8 * DAY, `${where}: expiry ${r.cert.valid_to}`);
      break;
    case 'selfsigned':
      assert.equal(r.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT', where);
      assert.equal(nameError, undefined, `${where}: name`);
      break;
    case 'wrongname':
      // Node reports the name only once the chain verified: the CA is trusted, the name is not covered.
      assert.equal(r.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID', where);
      assert.ok(nameError instanceof Error, `${where}: the name should not match`);
      break;
  }
}

async function smtpEhlo(h: Host, port: number): Promise<{ client: LineClient; ehlo: string }> {
  const client = await LineClient.open(h.address, port, 'smtp');
  const ehlo = await client.command('EHLO probe.mailaudit.test');
  return { client, ehlo };
}

async function checkSmtp(h: Host): Promise<void> {
  const where = `${h.name} ${h.address}`;
  if (!h.smtp) {
    for (const port of [25, 465, 587])
      assert.equal(await tryConnect(h.address, port), 'ECONNREFUSED', `${where}:${port}`);
    return;
  }
  if (h.smtp === 'endless') {
    // 256 KiB arrive without a line end, and more keep coming.
    const seen = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: h.address, port: 25 });
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (text.length >= 256 * 1024) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
      s.setTimeout(5000, () => reject(new Error(`${where}: the line stopped`)));
    });
    assert.equal(seen.includes('\n'), false, where);
    return;
  }
  if (h.smtp === 'blackhole') {
    // The listener's accept queue is full: port 25's SYNs go unanswered, the connect times out.
    assert.equal(await tryConnect(h.address, 25), 'timeout', `${where}:25`);
    for (const port of [465, 587]) assert.equal(await tryConnect(h.address, port), 'ECONNREFUSED', `${where}:${port}`);
    return;
  }
  if (h.smtp === 'slow') {
    const t0 = Date.now();
    const c = await LineClient.open(h.address, 25, 'smtp');
    assert.ok(Date.now() - t0 >= 3500, `${where}: the greeting should come late`);
    c.close();
    return;
  }
  const { client, ehlo } = await smtpEhlo(h, 25);
  assert.match(ehlo, /^250[ -]/m, where);
  if (h.smtp === 'nostarttls') {
    assert.doesNotMatch(ehlo, /STARTTLS/, where);
    assert.equal(await tryConnect(h.address, 465), 'ECONNREFUSED', `${where}:465`);
    client.close();
    return;
  }
  assert.match(ehlo, /^250[ -]STARTTLS/m, where);
  assert.match(await client.command('STARTTLS'), /^220 /, where);
  if (h.smtp === 'badtls') {
    await assert.rejects(client.startTls(labTls(lab.caFile, h.name)), `${where}: handshake must fail`);
    await assert.rejects(LineClient.open(h.address, 465, 'smtp', labTls(lab.caFile, h.name)), `${where}:465`);
    return;
  }
  const tls = await client.startTls(labTls(lab.caFile, h.name));
  assertCert(h, `${where}:25`, describeTls(tls));
  assert.match(await client.command('EHLO probe.mailaudit.test'), /^250 /m);
  client.close();

  const implicit = await LineClient.open(h.address, 465, 'smtp', labTls(lab.caFile, h.name));
  implicit.close();
  const submission = await smtpEhlo(h, 587);
  assert.match(submission.ehlo, /STARTTLS/, `${where}:587`);
  submission.client.close();
  // TLS 1.2 is the floor of the lab's SMTP hosts.
  await assert.rejects(
    LineClient.open(h.address, 465, 'smtp', labTls(lab.caFile, h.name, TLS10_ONLY)),
    `${where}:465 TLS 1.0`,
  );
}

async function checkAccess(h: Host): Promise<void> {
  const where = `${h.name} ${h.address}`;
  const profile: HostSpec['access'] = h.access;
  if (!profile) {
    for (const port of [110, 143, 993, 995])
      assert.equal(await tryConnect(h.address, port), 'ECONNREFUSED', `${where}:${port}`);
    return;
  }
  // IMAP 143: capabilities before TLS.
  const imap = await LineClient.open(h.address, 143, 'imap');
  const caps = await imap.command('a1 CAPABILITY', 'a1');
  const capLine = caps.split('\r\n').find((l) => l.startsWith('* CAPABILITY')) ?? '';
  assert.equal(/\bSTARTTLS\b/.test(capLine), profile !== 'nostarttls', `${where} IMAP STARTTLS: ${capLine}`);
  assert.equal(/\bLOGINDISABLED\b/.test(capLine), profile !== 'plaintext', `${where} IMAP LOGINDISABLED: ${capLine}`);
  imap.close();

  // POP3 110: CAPA and whether USER is accepted before TLS (no password is ever sent).
  const pop = await LineClient.open(h.address, 110, 'pop3');
  const capa = await pop.command('CAPA', 'multi');
  assert.equal(/^STLS$/m.test(capa.replaceAll('\r', '')), profile !== 'nostarttls', `${where} POP3 STLS: ${capa}`);
  const user = await pop.command('USER probe');
  assert.equal(user.startsWith('+OK'), profile === 'plaintext', `${where} POP3 USER: ${user}`);
  pop.close();

  if (profile === 'nostarttls') {
    for (const port of [993, 995]) assert.equal(await tryConnect(h.address, port), 'ECONNREFUSED', `${where}:${port}`);
    return;
  }
  // STARTTLS on 143, implicit TLS on 993 and 995: the declared certificate each time.
  const upgrade = await LineClient.open(h.address, 143, 'imap');
  assert.match(await upgrade.command('a2 STARTTLS', 'a2'), /^a2 OK/m);
  assertCert(h, `${where}:143`, describeTls(await upgrade.startTls(labTls(lab.caFile, h.name))));
  upgrade.close();
  for (const [port, protocol] of [
    [993, 'imap'],
    [995, 'pop3'],
  ] as const) {
    const c = await LineClient.open(h.address, port, protocol, labTls(lab.caFile, h.name));
    const r = describeTls(c.tls);
    assertCert(h, `${where}:${port}`, r);
    assert.equal(r.protocol, 'TLSv1.3', `${where}:${port}`);
    c.close();
  }
  // TLS 1.0 offered alone: accepted only by the legacy profile.
  const legacy = LineClient.open(h.address, 993, 'imap', labTls(lab.caFile, h.name, TLS10_ONLY));
  if (profile === 'legacytls') {
    const c = await legacy;
    assert.equal(c.tls.getProtocol(), 'TLSv1', where);
    c.close();
  } else {
    await assert.rejects(legacy, `${where}: TLS 1.0 must be refused`);
  }
}

describe('lab mail hosts', () => {
  it('serves SMTP on each host exactly as declared', async () => {
    for (const h of lab.model.hosts) await checkSmtp(h);
  });

  it('serves IMAP and POP3 on each host exactly as declared', async () => {
    for (const h of lab.model.hosts) await checkAccess(h);
  });
});

function fetchPolicy(domain: string, address: string): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: 443,
        path: '/.well-known/mta-sts.txt',
        headers: { host: `mta-sts.${domain}` },
        servername: `mta-sts.${domain}`,
        ...labTls(lab.caFile, `mta-sts.${domain}`, { rejectUnauthorized: true }),
        timeout: 3000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized: true }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('lab MTA-STS policy hosts', () => {
  it('serves each declared policy over HTTPS with a certificate from the lab CA', async () => {
    const served = lab.model.policies.filter((p) => p.server === 'lab');
    assert.ok(served.length > 40);
    for (const p of served) {
      const r = await fetchPolicy(p.domain, POLICY_ADDRESS);
      assert.equal(r.status, 200, p.domain);
      assert.equal(r.body, p.body, p.domain);
    }
    const unknown = await fetchPolicy('good.test', POLICY_ADDRESS).then(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            {
              host: POLICY_ADDRESS,
              port: 443,
              path: '/nothing',
              headers: { host: 'mta-sts.good.test' },
              ...labTls(lab.caFile, 'mta-sts.good.test'),
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end();
        }),
    );
    assert.equal(unknown, 404);
  });

  it('has nothing on 443 at the closed policy address', async () => {
    assert.ok(lab.model.policies.some((p) => p.server === 'closed'));
    assert.equal(await tryConnect(CLOSED_POLICY_ADDRESS, 443), 'ECONNREFUSED');
  });
});
