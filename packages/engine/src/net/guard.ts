/**
 * The private-address guard of CONTRACT.md section 5: a connection goes only to an IP address the
 * audit resolved itself and checked, whatever DNS says at connection time (the domain owner
 * controls DNS).
 */
import { isIP } from 'node:net';
import type { DnsClient } from '../dns/audit-dns.js';
import { allowedAddresses, reservedRange } from './address.js';

export class GuardError extends Error {
  readonly code = 'EGUARD';
  /**
   * @param address the address refused
   * @param range why: the reserved range it is in, or what else was wrong with it
   */
  constructor(
    readonly address: string,
    readonly range: string,
    message = `refusing to connect to ${address} (${range}) without --allow-private-targets`,
  ) {
    super(message);
  }
}

/** Throws GuardError when `address` is not public and private targets are not allowed. */
export function guardAddress(address: string, allowPrivateTargets: boolean): void {
  if (allowPrivateTargets) return;
  const range = reservedRange(address);
  if (range) throw new GuardError(address, range);
}

/** What `host` resolves to (a literal address is itself), and which of those the guard allows. */
export async function resolveAllowed(
  dns: DnsClient,
  host: string,
  allowPrivateTargets: boolean,
): Promise<{ all: string[]; allowed: string[] }> {
  let all: string[];
  if (isIP(host)) all = [host];
  else {
    const [a, aaaa] = await Promise.all([dns.query(host, 'A'), dns.query(host, 'AAAA')]);
    all = [...a.records, ...aaaa.records];
  }
  return { all, allowed: allowedAddresses(all, allowPrivateTargets) };
}
