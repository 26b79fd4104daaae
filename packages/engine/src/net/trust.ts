/**
 * The trust anchors certificates are judged against: Node's bundled roots, the system bundle when
 * present, and the --ca-file. Probes judge a served chain with `trusts` (the handshake itself
 * accepts any certificate, to see what is served); HTTPS fetches verify in the handshake with
 * `secureContext`.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/** Trust anchors: Node's bundled roots, the system bundle when present, and the --ca-file. */
export class TrustStore {
  readonly pems: string[];
  private context: SecureContext | undefined;
  private parsed: X509Certificate[] | undefined;

  /**
   * The anchors as certificates, parsed on first use: parsing the system's bundle costs tens of
   * milliseconds of CPU that an audit without probes (or a process that never probes) never needs.
   */
  get anchors(): X509Certificate[] {
    this.parsed ??= this.pems.flatMap((p) => {
      try {
        return [new X509Certificate(p)];
      } catch {
        return [];
      }
    });
    return this.parsed;
  }

  /** A TLS context trusting these anchors, built once (for fetches that verify in the handshake). */
  get secureContext(): SecureContext {
    this.context ??= createSecureContext({ ca: this.pems });
    return this.context;
  }

  constructor(caFile?: string, systemBundle = '/etc/ssl/certs/ca-certificates.crt') {
    const pems = [...rootCertificates];
    for (const file of [systemBundle, caFile]) {
      if (!file) continue;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (file === caFile) throw new Error(`cannot read --ca-file ${file}: ${(err as Error).message}`);
        continue;
      }
      pems.push(...(text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []));
    }
    this.pems = [...new Set(pems)];
  }

  /** Whether a served chain (leaf first) leads to an anchor: each certificate signed by the next, the last by an anchor (or an anchor itself). */
  trusts(chain: X509Certificate[]): boolean {
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i] as X509Certificate;
      if (this.anchors.some((a) => a.fingerprint256 === cert.fingerprint256)) return true;
      if (this.anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey))) return true;
      const next = chain[i + 1];
      if (!next || !cert.checkIssued(next) || !cert.verify(next.publicKey)) return false;
    }
    return false;
  }
}
