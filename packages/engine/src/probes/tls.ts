/**
 * What a TLS handshake showed: version, cipher, the served chain, and the certificate judged on
 * its own terms: trusted (chain to an anchor of the system store plus --ca-file, dates and name
 * aside), expired or expiring, covering the host name, its key. Legacy versions are tried with a
 * context that offers TLS 1.0 and 1.1 only.
 */
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { TrustStore } from '../net/trust.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  names: string[];
  validFrom: string;
  validTo: string;
  keyType: string;
  keyBits?: number;
  curve?: string;
  fingerprint256: string;
}

export interface TlsInfo {
  protocol: string;
  cipher: string;
  chain: CertInfo[];
  /** Chain leads to a trust anchor, dates and name aside. */
  trusted: boolean;
  /** The host names (of those that led to the address) the leaf certificate covers. */
  covers: string[];
  expired: boolean;
  expiresInDays: number;
}

/**
 * TLS options of a normal probe: certificates are judged by `inspect`, not by the handshake, so no
 * CA list is loaded per connection (building a context of ~300 roots costs ~100 ms each time).
 */
export function probeTlsOptions(servername: string | undefined): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: false, minVersion: 'TLSv1.2' };
  if (servername) o.servername = servername;
  return o;
}

/** TLS options that offer only TLS 1.0 and 1.1, with the old ciphers they need (OpenSSL security level 0). */
export function legacyTlsOptions(servername: string | undefined): ConnectionOptions {
  const o: ConnectionOptions = {
    rejectUnauthorized: false,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  };
  if (servername) o.servername = servername;
  return o;
}

function served(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c?.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

function describeCert(x: X509Certificate): CertInfo {
  const key = x.publicKey;
  const names = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  const info: CertInfo = {
    subject: x.subject.replaceAll('\n', ', '),
    issuer: x.issuer.replaceAll('\n', ', '),
    names,
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
    keyType: key.asymmetricKeyType ?? 'unknown',
    fingerprint256: x.fingerprint256,
  };
  const details = key.asymmetricKeyDetails;
  if (details?.modulusLength) info.keyBits = details.modulusLength;
  if (details?.namedCurve) info.curve = details.namedCurve;
  return info;
}

/** The names (of `names`) the leaf certificate of a served chain covers. */
export function coveredNames(served: readonly X509Certificate[], names: string[]): string[] {
  const leaf = served[0];
  return leaf ? names.filter((n) => leaf.checkHost(n) !== undefined) : [];
}

/**
 * The TLS description of a served chain (leaf first), judged at `now` for the names that led to
 * the address: the same for a fresh handshake and for a chain read back from a shared probe
 * result (stored.ts), whose judgement is each reader's own (its trust anchors, its clock).
 */
export function describeTls(
  protocol: string,
  cipher: string,
  chain: X509Certificate[],
  names: string[],
  trust: TrustStore,
  now: Date,
): TlsInfo {
  const leaf = chain[0];
  const validTo = leaf ? new Date(leaf.validTo).getTime() : 0;
  return {
    protocol,
    cipher,
    chain: chain.map(describeCert),
    trusted: chain.length > 0 && trust.trusts(chain),
    covers: coveredNames(chain, names),
    expired: validTo <= now.getTime(),
    expiresInDays: Math.floor((validTo - now.getTime()) / 86_400_000),
  };
}

/**
 * What the handshake on `socket` showed, judged at `now` for the names that led to the address:
 * the description (plain data, for findings and evidence) and the served chain as certificate
 * objects (for DANE and name coverage, never evidence).
 */
export function inspect(
  socket: TLSSocket,
  names: string[],
  trust: TrustStore,
  now: Date,
): { info: TlsInfo; served: X509Certificate[] } {
  const chain = served(socket);
  const info = describeTls(
    socket.getProtocol() ?? 'unknown',
    socket.getCipher()?.name ?? 'unknown',
    chain,
    names,
    trust,
    now,
  );
  return { info, served: chain };
}
