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

/** Why a port-25 result shows nothing about the server (the reasons of `smtp.not_checked`). */
export type Port25Unknown = 'probe.egress_unproven' | 'probe.deadline' | 'probe.wait' | 'probe.local_error';

/** What one port-25 result shows of the server: it accepts, it does not, or nothing (and why). */
export type Port25Seen =
  | { seen: 'accepts' }
  | { seen: 'does_not_accept' }
  | { seen: 'nothing'; reason: Port25Unknown; code?: string };

/**
 * The rule (docs/codes.md, the note on `smtp.unreachable`): a connection accepted is the server
 * accepting; a refusal (RST) is the server's own answer; a timeout is the server's only when the
 * process that probed had lately seen a port-25 connection to another address of the same family
 * succeed (`egressSeenAt`: this machine's outbound port 25 works) and the audit's deadline did not
 * cut it; an error here (EADDRNOTAVAIL, ENETUNREACH, EPERM…, the guard), the deadline and the wait
 * for a connection slot show nothing.
 */
export function port25Seen(r: PortResult): Port25Seen {
  if (r.state === 'open') return { seen: 'accepts' };
  if (r.state === 'closed') return { seen: 'does_not_accept' };
  if (r.cut) return { seen: 'nothing', reason: r.cut === 'wait' ? 'probe.wait' : 'probe.deadline' };
  if (r.state === 'timeout')
    return r.egressSeenAt ? { seen: 'does_not_accept' } : { seen: 'nothing', reason: 'probe.egress_unproven' };
  if (r.state === 'skipped') return { seen: 'nothing', reason: 'probe.deadline' };
  return { seen: 'nothing', reason: 'probe.local_error', code: r.errorCode ?? 'unknown' };
}

export interface Port25Verdict {
  /** Every MX address answered on port 25 and none accepts: `smtp.unreachable`. */
  unreachable: boolean;
  /**
   * None accepts, and at least one address showed nothing about the server: port 25 could not be
   * checked (`smtp.not_checked`, the transport category `error`). The first such address's reason.
   */
  notChecked?: { reason: Port25Unknown; code?: string };
  /** Each port-25 result with what it showed. */
  seen: { result: PortResult; seen: Port25Seen }[];
}

/** What the port-25 results of the MX addresses say, taken together (pure). */
export function port25Verdict(results: PortResult[]): Port25Verdict {
  const seen = results
    .filter((r) => r.protocol === 'smtp' && r.port === 25)
    .map((result) => ({ result, seen: port25Seen(result) }));
  if (seen.length === 0 || seen.some((s) => s.seen.seen === 'accepts')) return { unreachable: false, seen };
  const unknown = seen.find((s) => s.seen.seen === 'nothing')?.seen as Extract<Port25Seen, { seen: 'nothing' }>;
  if (!unknown) return { unreachable: true, seen };
  const notChecked: Port25Verdict['notChecked'] = { reason: unknown.reason };
  if (unknown.code) notChecked.code = unknown.code;
  return { unreachable: false, notChecked, seen };
}

const UNKNOWN_WORDS: Record<Port25Unknown, string> = {
  'probe.egress_unproven':
    'every connection timed out and this machine has not lately connected to port 25 anywhere else (its own outbound port 25 may be blocked)',
  'probe.deadline': "the audit's deadline cut the connections short",
  'probe.wait': 'the audit used its time waiting for its turn to connect to the address',
  'probe.local_error': 'the connection failed on the auditing side',
};

export function evaluateTransport(domain: string, probes: PortProbe[], dane: DaneInput[]): Finding[] {
  const out: Finding[] = [];
  const results = probes.map((p) => p.result);
  const port25 = port25Verdict(results);
  if (port25.unreachable) {
    out.push(
      finding(
        'smtp.unreachable',
        domain,
        `None of the ${port25.seen.length} MX addresses of ${domain} accepts connections on port 25: mail to it cannot be delivered.`,
        {
          addresses: port25.seen.map(({ result: r }) => ({ address: r.address, state: r.state, error: r.error })),
        },
      ),
    );
  } else if (port25.notChecked) {
    const { reason, code } = port25.notChecked;
    out.push(
      finding(
        'smtp.not_checked',
        domain,
        `Port 25 of the ${port25.seen.length} MX addresses of ${domain} could not be checked: ${UNKNOWN_WORDS[reason]}${code ? ` (${code})` : ''}. Whether they accept mail is unknown, not bad.`,
        {
          ...why(reason, code ? { code } : {}),
          addresses: port25.seen.map(({ result: r, seen: s }) => ({
            address: r.address,
            state: r.state,
            ...(s.seen === 'nothing' ? { reason: s.reason } : {}),
          })),
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
