/**
 * The transport part of an audit: which addresses and ports to probe (CONTRACT.md section 3,
 * "Hosts probed"), the probes themselves under concurrency limits, DANE, and the findings.
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { MailHost } from '../checks/mx/index.js';
import type { Code } from '../codes.js';
import type { DnsClient } from '../dns/audit-dns.js';
import { failed } from '../dns/audit-dns.js';
import type { TlsaRecord } from '../dns/records.js';
import { finding } from '../findings.js';
import type { Finding } from '../types.js';
import { daneMatches, usableTlsa } from './dane.js';
import { type PortResult, type PortTarget, type ProbeEnv, probePort } from './mail.js';

export type { PortResult, ProbeEnv } from './mail.js';
export { type Connector, GuardError, guardAddress, netConnector, pinnedLookup, resolveAllowed } from './net.js';
export { TrustStore } from './tls.js';

/** Bounds connections per target address across every audit of the process. */
export class AddressLimiter {
  private readonly active = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();
  constructor(readonly perAddress = 4) {}

  async run<T>(address: string, fn: () => Promise<T>): Promise<T> {
    if ((this.active.get(address) ?? 0) >= this.perAddress) {
      await new Promise<void>((resolve) => this.queues.set(address, [...(this.queues.get(address) ?? []), resolve]));
    } else this.active.set(address, (this.active.get(address) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const next = this.queues.get(address)?.shift();
      if (next) next();
      else this.active.set(address, (this.active.get(address) ?? 1) - 1);
    }
  }
}

/**
 * Probe results shared between audits of one process for a while: a hosting provider's domains
 * mostly share a few mail hosts, and probing the same address, port and server name once per
 * domain would cost them (and us) for nothing. Concurrent audits share an in-flight probe too.
 */
export class ProbeCache {
  private readonly entries = new Map<string, { at: number; result: Promise<PortResult> }>();
  constructor(
    readonly ttlMs = 300_000,
    readonly maxEntries = 10_000,
  ) {}

  get(t: PortTarget, now: number, run: () => Promise<PortResult>): Promise<PortResult> {
    const key = `${t.address}|${t.port}|${t.host}`;
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.result;
    if (this.entries.size >= this.maxEntries) {
      for (const [k, v] of this.entries) if (now - v.at >= this.ttlMs) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    const result = run();
    this.entries.set(key, { at: now, result });
    return result;
  }
}

/** A cached result seen through another audit's eyes: its names, and what the certificate covers of them. */
function forTarget(r: PortResult, t: PortTarget): PortResult {
  const out: PortResult = { ...r, names: t.names };
  if (r.tls) {
    const leaf = (r.tls as { raw?: X509Certificate[] }).raw?.[0];
    out.tls = { ...r.tls, covers: leaf ? t.names.filter((n) => leaf.checkHost(n) !== undefined) : [] };
  }
  return out;
}

export interface AccessHost {
  name: string;
  addresses: string[];
}

/** Names RFC 6186 and common practice use for mail access; only those that resolve are probed. */
export async function discoverAccessHosts(
  dns: DnsClient,
  domain: string,
  usable: (a: string) => boolean,
  extra: string[] = [],
): Promise<AccessHost[]> {
  const names = new Set([...['mail', 'imap', 'pop', 'pop3'].map((p) => `${p}.${domain}`), ...extra]);
  const srv = await Promise.all(
    ['_imap._tcp', '_imaps._tcp', '_pop3._tcp', '_pop3s._tcp'].map((s) => dns.query(`${s}.${domain}`, 'SRV')),
  );
  for (const a of srv) for (const r of a.records) if (r.target && r.target !== '.') names.add(r.target);
  const hosts = await Promise.all(
    [...names].map(async (name) => {
      const [a, aaaa] = await Promise.all([dns.query(name, 'A'), dns.query(name, 'AAAA')]);
      return { name, addresses: [...a.records, ...aaaa.records].filter(usable) };
    }),
  );
  return hosts.filter((h) => h.addresses.length > 0);
}

/** Every (address, port) to probe, each once, with the names that led to the address. */
export function planTargets(mxHosts: MailHost[], access: AccessHost[]): PortTarget[] {
  const mxNames = new Map<string, string[]>();
  for (const h of mxHosts) for (const a of h.usable) mxNames.set(a, [...(mxNames.get(a) ?? []), h.name]);
  const accessNames = new Map<string, string[]>(mxNames);
  for (const h of access)
    for (const a of h.addresses) accessNames.set(a, [...new Set([...(accessNames.get(a) ?? []), h.name])]);
  const targets: PortTarget[] = [];
  for (const [address, names] of mxNames) {
    for (const [port, tlsMode] of [
      [25, 'starttls'],
      [465, 'implicit'],
      [587, 'starttls'],
    ] as const) {
      targets.push({ host: names[0] as string, names, address, port, protocol: 'smtp', tlsMode });
    }
  }
  for (const [address, names] of accessNames) {
    for (const [port, protocol, tlsMode] of [
      [143, 'imap', 'starttls'],
      [993, 'imap', 'implicit'],
      [110, 'pop3', 'starttls'],
      [995, 'pop3', 'implicit'],
    ] as const) {
      targets.push({ host: names[0] as string, names, address, port, protocol, tlsMode });
    }
  }
  return targets;
}

export async function runProbes(
  env: ProbeEnv,
  targets: PortTarget[],
  limiter: AddressLimiter,
  cache?: ProbeCache,
  concurrency = 16,
): Promise<PortResult[]> {
  const results: PortResult[] = new Array(targets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= targets.length) return;
        const t = targets[i] as PortTarget;
        const probe = () => limiter.run(t.address, () => probePort(env, t));
        results[i] = cache ? forTarget(await cache.get(t, env.now().getTime(), probe), t) : await probe();
      }
    }),
  );
  return results;
}

export interface DaneInput {
  host: string;
  records: TlsaRecord[];
  validated: boolean;
}

export async function fetchDane(dns: DnsClient, mxHosts: MailHost[]): Promise<DaneInput[]> {
  return Promise.all(
    mxHosts.map(async (h) => {
      const a = await dns.query(`_25._tcp.${h.name}`, 'TLSA');
      return { host: h.name, records: failed(a) ? [] : a.records, validated: a.ad };
    }),
  );
}

const subject = (r: PortResult) => `${r.host}:${r.port}`;

export function evaluateTransport(domain: string, results: PortResult[], dane: DaneInput[]): Finding[] {
  const out: Finding[] = [];
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
          error: r.tlsError,
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
    const chains = results
      .filter((r) => r.protocol === 'smtp' && r.port === 25 && r.names.includes(d.host) && r.tls)
      .map((r) => (r.tls as { raw?: X509Certificate[] }).raw ?? []);
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
export function evaluateIpv6Reachability(hosts: MailHost[], results: PortResult[]): Finding[] {
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

/** Port results without the raw certificates, for the report's evidence. */
export function transportEvidence(results: PortResult[]): unknown[] {
  return results
    .filter((r) => r.state !== 'closed' || r.protocol === 'smtp')
    .map((r) => {
      const { raw: _raw, ...tls } = (r.tls ?? {}) as { raw?: unknown };
      return { ...r, tls: r.tls ? tls : undefined };
    });
}
