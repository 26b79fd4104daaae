/**
 * The lab's addresses: all inside 127.20.0.0/16, which the project owns on this machine, or the
 * /16 that `MAILAUDIT_LAB_NET` names (`127.N`), so that two checkouts can each run a lab at once.
 * Nothing is added to the `lo` interface: Linux routes the whole of 127.0.0.0/8 to it already, and
 * a lab address on `lo` would become the source of connections to it (Dovecot then treats the
 * client as local and secured, see ../../shared/FIELD-NOTES.md).
 */
export const LAB_NET = labNet(process.env.MAILAUDIT_LAB_NET);

function labNet(value: string | undefined): string {
  if (value === undefined || value === '') return '127.20';
  const m = /^127\.(\d{1,3})$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 254) {
    throw new Error(`MAILAUDIT_LAB_NET must be a loopback /16 such as 127.21, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** Authoritative server (Knot) for the fake root, `test.`, scenario zones, reverse and DNSBL zones. */
export const AUTH_ADDRESS = `${LAB_NET}.0.1`;
/** Validating recursive resolver (Unbound): what audits are pointed at. */
export const RESOLVER_ADDRESS = `${LAB_NET}.0.2`;
/** A nameserver that reads queries and never answers (lame delegation). */
export const BLACKHOLE_ADDRESS = `${LAB_NET}.0.3`;
/** HTTPS server for MTA-STS policies. */
export const POLICY_ADDRESS = `${LAB_NET}.3.1`;
/** An address where nothing listens on 443. */
export const CLOSED_POLICY_ADDRESS = `${LAB_NET}.3.2`;
/** Addresses that names resolve to but nothing is ever meant to serve (SPF targets and the like). */
export const INERT_NET = `${LAB_NET}.9`;
/** Mail hosts are allocated from here in declaration order. */
export const HOST_NET = `${LAB_NET}.1`;
/** Shared mail hosts of the bulk domains. */
export const BULK_HOST_NET = `${LAB_NET}.8`;

/** The resolver as `--resolver` takes it. */
export const RESOLVER = `${RESOLVER_ADDRESS}:53`;

/** Reverse zone covering the lab's /16. */
export const REVERSE_ZONE = `${LAB_NET.split('.').reverse().join('.')}.in-addr.arpa`;

/** PTR owner name of an IPv4 address. */
export function reverseName(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** Whether an address is inside the lab's /16. */
export function isLabAddress(address: string): boolean {
  return address.startsWith(`${LAB_NET}.`);
}
