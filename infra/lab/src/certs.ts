/**
 * The lab CA and the certificates of mail and HTTPS hosts, made with @peculiar/x509 on WebCrypto
 * (validity dates in the past or near future, which the openssl 3.0 command line cannot set
 * without a full `openssl ca` setup).
 */
import 'reflect-metadata';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CertKind } from './model.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(globalThis.crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Issued {
  certPem: string;
  keyPem: string;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo (TLSA 3 1 1). */
  spkiSha256: string;
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  pem: string;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function spkiHash(certPem: string): string {
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function createCa(now: Date): Promise<Ca> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=mailaudit lab CA, O=mailaudit lab',
    keys,
    signingAlgorithm: EC,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, pem: cert.toString('pem') };
}

/** A leaf certificate of the given kind for `names` (the first is the subject CN). */
export async function issue(ca: Ca, names: string[], kind: CertKind, now: Date): Promise<Issued> {
  const keys = await newKeys();
  const covered = kind === 'wrongname' ? ['wrong-name.elsewhere.test'] : names;
  const [notBefore, notAfter] =
    kind === 'expired'
      ? [new Date(now.getTime() - 400 * DAY), new Date(now.getTime() - 30 * DAY)]
      : kind === 'expiring'
        ? [new Date(now.getTime() - 80 * DAY), new Date(now.getTime() + 7 * DAY)]
        : [new Date(now.getTime() - DAY), new Date(now.getTime() + 365 * DAY)];
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(covered.map((value) => ({ type: 'dns' as const, value }))),
  ];
  const subject = `CN=${covered[0]}`;
  const cert =
    kind === 'selfsigned'
      ? await x509.X509CertificateGenerator.createSelfSigned({
          name: subject,
          keys,
          signingAlgorithm: EC,
          notBefore,
          notAfter,
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          subject,
          issuer: ca.cert.subject,
          publicKey: keys.publicKey,
          signingKey: ca.keys.privateKey,
          signingAlgorithm: EC,
          notBefore,
          notAfter,
          extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
        });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await keyPem(keys.privateKey), spkiSha256: spkiHash(certPem) };
}
