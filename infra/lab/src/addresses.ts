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
/** Addresses test messages are sent from (a client binds one as its local address). */
export const SENDER_NET = `${LAB_NET}.10`;
/** Where tests run the inbound SMTP receiver (`mailaudit inbound`) for test messages. */
export const INBOUND_ADDRESS = `${LAB_NET}.11.1`;

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

/**
 * The lab's IPv6 /64: a unique-local prefix of its own (RFC 4193 fd00::/8, global ID
 * 6d:6c61:6200 for "mla"b), with the subnet ID the number of its IPv4 /16, so that two labs never
 * share one (127.20 has fd6d:6c61:6200:20::/64, 127.21 fd6d:6c61:6200:21::/64). Not the machine's
 * own fd00::/64, which routes off the machine: every lab IPv6 address is added to `lo`, and `up`
 * checks with `ip -6 route get` that each is local before anything connects to it.
 */
export const LAB6_NET = `fd6d:6c61:6200:${LAB_NET.split('.')[1]}`;

/**
 * The source of connections to lab IPv6 addresses: the lab routes each host address with this
 * preferred source, so that a client on this machine does not connect from the server's own
 * address (Dovecot would then take it for a local, secured client; ../../shared/FIELD-NOTES.md).
 */
export const CLIENT6_ADDRESS = `${LAB6_NET}::c`;

/** The IPv6 address of the mail host at `HOST_NET.n` (or `BULK_HOST_NET.n`): `LAB6_NET::1:n` (`::8:n`). */
export function ipv6Of(ipv4: string): string {
  const [, , third, fourth] = ipv4.split('.');
  return `${LAB6_NET}::${third}:${fourth}`;
}

/** The 32 nibbles of an IPv6 address, most significant first. */
export function nibbles(address: string): string[] {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => g.padStart(4, '0').split(''));
}

/** Reverse zone covering the lab's IPv6 /64 (RFC 3596 2.5). */
export const REVERSE6_ZONE = `${nibbles(`${LAB6_NET}::`).slice(0, 16).reverse().join('.')}.ip6.arpa`;

/** PTR owner name of an IPv6 address. */
export function reverseName6(address: string): string {
  return `${nibbles(address).reverse().join('.')}.ip6.arpa`;
}
