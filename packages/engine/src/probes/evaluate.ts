/**
 * The transport findings (CONTRACT.md section 3): reachability on port 25 (over IPv6 too), how
 * each server behaved, what it offers before TLS, the TLS versions and certificates, DANE.
 */
import { isIP } from 'node:net';
import type { Code } from '../codes.js';
import { finding } from '../findings.js';
import { why } from '../params.js';
import type { Finding } from '../types.js';
import { type DaneInput, daneMatches, usableTlsa } from './dane.js';
import type { ProbeHost } from './plan.js';
import type { PortProbe, PortResult } from './types.js';

const subject = (r: PortResult) => `${r.host}:${r.port}`;

export function evaluateTransport(domain: string, probes: PortProbe[], dane: DaneInput[]): Finding[] {
  const out: Finding[] = [];
  const results = probes.map((p) => p.result);
  const smtp25 = results.filter((r) => r.protocol === 'smtp' && r.port === 25);
  const attempted = smtp25.filter((r) => r.state !== 'guarded' && r.state !== 'skipped');
  if (attempted.length > 0 && attempted.every((r) => r.state !== 'open')) {
    out.push(
      finding(
        'smtp.unreachable',
        domain,
        `None of the ${attempted.length} MX addresses of ${domain} accepts connections on port 25: mail to it cannot be delivered.`,
        {
          addresses: attempted.map((r) => ({ address: r.address, state: r.state, error: r.error })),
        },
      ),
    );
  }
  for (const r of results) {
    if (r.state !== 'open') continue;
    const s = subject(r);
    const p = { host: r.host, address: r.address, port: r.port };
    if (r.dialog === 'unresponsive') {
      out.push(
        finding(
          'transport.unresponsive',
          s,
          `${s} (${r.address}) accepted the connection but did not answer in time: ${r.error}.`,
          p,
        ),
      );
    } else if (r.dialog === 'protocol_error') {
      out.push(
        finding(
          'transport.protocol_error',
          s,
          `${s} (${r.address}) broke the ${r.protocol.toUpperCase()} protocol: ${r.error}.`,
          p,
        ),
      );
    }
    if (
      r.tlsMode === 'starttls' &&
      r.dialog !== 'unresponsive' &&
      r.dialog !== 'protocol_error' &&
      r.dialog !== 'rejected'
    ) {
      // What each protocol offers before TLS (CONTRACT.md section 3), as [condition, code, message].
      const rules: [boolean, Code, string][] = [
        [
          r.protocol === 'smtp' && r.port === 25 && r.starttls === false,
          'smtp.starttls.missing',
          `${r.host} does not offer STARTTLS on port 25: mail to it crosses the network in clear.`,
        ],
        [
          r.protocol === 'imap' && r.starttls === false,
          'imap.starttls.missing',
          `IMAP on ${s} offers no STARTTLS: mailbox passwords and mail cross the network in clear.`,
        ],
        [
          r.protocol === 'imap' && r.loginDisabled === false,
          'imap.plaintext_auth',
          `IMAP on ${s} allows login before TLS (no LOGINDISABLED): passwords can be sent in clear.`,
        ],
        [
          r.protocol === 'pop3' && r.starttls === false,
          'pop3.stls.missing',
          `POP3 on ${s} offers no STLS: mailbox passwords and mail cross the network in clear.`,
        ],
        [
          r.protocol === 'pop3' && r.userAccepted === true,
          'pop3.plaintext_auth',
          `POP3 on ${s} accepts USER before TLS: passwords can be sent in clear.`,
        ],
      ];
      for (const [when, code, message] of rules) if (when) out.push(finding(code, s, message, p));
    }
    if (r.tlsError) {
      out.push(
        finding('tls.handshake.failed', s, `The TLS handshake with ${s} failed: ${r.tlsError}.`, {
          ...p,
          ...(r.tlsErrorCode === 'timeout'
            ? why('tls.handshake_timeout')
            : why('tls.handshake_error', { code: r.tlsErrorCode ?? 'unknown' })),
        }),
      );
    }
    if (r.legacy?.accepted) {
      out.push(
        finding('tls.version.legacy', s, `${s} accepts ${r.legacy.protocol}, which RFC 8996 deprecates.`, {
          ...p,
          version: r.legacy.protocol,
        }),
      );
    }
    const t = r.tls;
    if (!t) continue;
    const leaf = t.chain[0];
    const certParams = {
      ...p,
      subject: leaf?.subject,
      issuer: leaf?.issuer,
      validTo: leaf?.validTo,
      names: leaf?.names,
    };
    if (t.expired) {
      out.push(finding('tls.cert.expired', s, `The certificate of ${s} expired on ${leaf?.validTo}.`, certParams));
    } else if (t.expiresInDays < 14) {
      out.push(
        finding(
          'tls.cert.expiring',
          s,
          `The certificate of ${s} expires in ${t.expiresInDays} days (${leaf?.validTo}).`,
          { ...certParams, days: t.expiresInDays },
        ),
      );
    }
    if (!t.trusted) {
      out.push(
        finding(
          'tls.cert.untrusted',
          s,
          `The certificate chain of ${s} does not lead to a trusted root (issuer: ${leaf?.issuer}).`,
          certParams,
        ),
      );
    }
    if (t.covers.length === 0) {
      out.push(
        finding(
          'tls.cert.name_mismatch',
          s,
          `The certificate of ${s} is for ${leaf?.names.join(', ') || leaf?.subject}, not ${r.names.join(' or ')}.`,
          certParams,
        ),
      );
    }
  }
  for (const d of dane) {
    const usable = usableTlsa(d.records);
    if (!d.validated || usable.length === 0) continue;
    const chains = probes
      .filter(({ result: r }) => r.protocol === 'smtp' && r.port === 25 && r.names.includes(d.host) && r.tls)
      .map((p) => p.served);
    if (chains.length === 0) continue;
    if (!chains.some((c) => daneMatches(usable, c))) {
      out.push(
        finding(
          'dane.tlsa.mismatch',
          d.host,
          `${d.host} publishes TLSA records at _25._tcp.${d.host} that no certificate it serves matches: DANE senders will not deliver to it.`,
          {
            host: d.host,
            tlsa: usable.map((t) => `${t.usage} ${t.selector} ${t.matchingType} ${t.data}`),
          },
        ),
      );
    }
  }
  return out;
}

/**
 * MX hosts reachable on port 25 over IPv4 but not over IPv6 (senders that prefer IPv6 fail or
 * delay on them). An IPv6 address counts as not accepting when it refused the connection (a reset
 * proves it was reached) or timed out while another IPv6 address of the same audit accepted one
 * (proving the auditing side's IPv6 works). Local errors (no IPv6 route here) never count: what
 * could not be checked is not reported as bad.
 */
export function evaluateIpv6Reachability(hosts: ProbeHost[], results: PortResult[]): Finding[] {
  const smtp25 = results.filter((r) => r.protocol === 'smtp' && r.port === 25);
  const ipv6Works = smtp25.some((r) => isIP(r.address) === 6 && r.state === 'open');
  const out: Finding[] = [];
  for (const h of hosts) {
    const mine = smtp25.filter((r) => h.usable.includes(r.address));
    const v4 = mine.filter((r) => isIP(r.address) === 4);
    const v6 = mine.filter((r) => isIP(r.address) === 6);
    if (v6.length === 0 || !v4.some((r) => r.state === 'open')) continue;
    const notAccepting = (r: PortResult) => r.state === 'closed' || (r.state === 'timeout' && ipv6Works);
    if (!v6.every(notAccepting)) continue;
    out.push(
      finding(
        'smtp.ipv6.unreachable',
        h.name,
        `${h.name} accepts mail on port 25 over IPv4 but not over IPv6 (${v6.map((r) => `${r.address}: ${r.state === 'closed' ? 'refused' : 'no answer'}`).join('; ')}): senders that prefer IPv6 fail or delay.`,
        {
          host: h.name,
          addresses: v6.map((r) => ({ address: r.address, state: r.state, error: r.error })),
        },
      ),
    );
  }
  return out;
}

/** The port results for the report's evidence: plain data by type (the served certificates stay out). */
export function transportEvidence(probes: PortProbe[]): PortResult[] {
  return probes.map((p) => p.result).filter((r) => r.state !== 'closed' || r.protocol === 'smtp');
}
