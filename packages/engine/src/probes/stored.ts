/**
 * A probe result in the form shared beyond one audit (other threads, other worker processes,
 * through Redis): what the server did and the chain it served, as JSON. Nothing of the audit that
 * asked is in it (the names that led to the address, the judgement of the certificate: each
 * reader judges the chain with its own trust anchors and clock, so a result read back is what the
 * reader's own probe would have made of the same handshake), and nothing secret: probes never send
 * a password, and a served certificate chain is public.
 */
import { X509Certificate } from 'node:crypto';
import type { TrustStore } from '../net/trust.js';
import { describeTls } from './tls.js';
import type { PortProbe, PortResult, PortTarget, ProbeEnv } from './types.js';

/** The result without the asking audit's names and without the certificate's judgement. */
export type StoredResult = Omit<PortResult, 'names' | 'tls'> & { tls?: { protocol: string; cipher: string } };

export interface StoredProbe {
  /** Format version: a reader skips (and replaces) what it cannot read. */
  v: 1;
  result: StoredResult;
  /** The served chain as DER in base64, leaf first; empty without TLS. */
  chain: string[];
}

/**
 * What a probe's result is worth to other audits:
 * - `seen`: the server's own behaviour (it answered, refused, broke the protocol): shared for the
 *   cache's time to live;
 * - `unknown`: nothing seen (a timeout, a network error here or there): shared for a short time
 *   only, so that a failure on the auditing side never becomes a finding of every domain on a host;
 * - `audit`: cut short by the asking audit's deadline: this audit's lack of time, never shared.
 */
export type ProbeStanding = 'seen' | 'unknown' | 'audit';

export function probeStanding(r: PortResult, cutByDeadline: boolean): ProbeStanding {
  const unknown =
    r.state === 'timeout' ||
    r.state === 'error' ||
    r.state === 'skipped' ||
    r.dialog === 'unresponsive' ||
    r.tlsErrorCode === 'timeout';
  if (r.state === 'skipped' || (unknown && cutByDeadline)) return 'audit';
  return unknown ? 'unknown' : 'seen';
}

/**
 * The key of a probe: everything its outcome depends on besides the server (address, port,
 * protocol and TLS mode, the SNI name, the EHLO name, whether private addresses may be reached),
 * and nothing the reader judges on its own (trust anchors, clock, the names that led there).
 */
export function probeKey(t: PortTarget, env: Pick<ProbeEnv, 'allowPrivateTargets' | 'ehloName'>): string {
  return [
    'v1',
    t.address,
    t.port,
    t.protocol,
    t.tlsMode,
    t.host.toLowerCase(),
    env.ehloName,
    env.allowPrivateTargets ? 'private' : 'public',
  ].join('|');
}

export function storeProbe(p: PortProbe): StoredProbe {
  // Fields keep their order (the report's evidence reads the same as after a probe of its own).
  const { names: _names, ...rest } = p.result;
  const result = rest as StoredResult;
  if (rest.tls) result.tls = { protocol: rest.tls.protocol, cipher: rest.tls.cipher };
  return { v: 1, result, chain: p.served.map((c) => c.raw.toString('base64')) };
}

/** A stored probe as the probe of `t` would have returned it, judged with `trust` at `now`. */
export function loadProbe(s: StoredProbe, t: PortTarget, trust: TrustStore, now: Date): PortProbe {
  const served = s.chain.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
  // The key holds the target's host, address, port, protocol and mode: only the names are its own
  // (in the place a probe of its own puts them).
  const { host, ...rest } = s.result;
  const result = { host, names: t.names, ...rest } as PortResult;
  const tls = s.result.tls;
  if (tls) result.tls = describeTls(tls.protocol, tls.cipher, served, t.names, trust, now);
  return { result, served };
}

/** Whether `value` (parsed JSON from a shared store) is a stored probe this version reads. */
export function isStoredProbe(value: unknown): value is StoredProbe {
  const v = value as StoredProbe | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.v === 1 &&
    typeof v.result === 'object' &&
    v.result !== null &&
    typeof v.result.state === 'string' &&
    Array.isArray(v.chain)
  );
}
