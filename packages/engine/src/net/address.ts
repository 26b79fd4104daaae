/**
 * Classifies IP addresses: whether one is public, and if not, which reserved range it is in.
 * The ranges are those of the IANA special-purpose registries (RFC 6890 and updates) that are not
 * globally reachable, plus multicast; IPv4-mapped IPv6 addresses are judged by their IPv4 part.
 */
import { BlockList, isIP } from 'node:net';

const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'this network (0/8)'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'shared CGNAT space (RFC 6598)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'ipv4', 'deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'ipv4', 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved (240/4) and broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['64:ff9b:1::', 48, 'ipv6', 'local-use NAT64'],
  ['100::', 64, 'ipv6', 'discard-only'],
  ['2001::', 32, 'ipv6', 'Teredo'],
  ['2001::', 23, 'ipv6', 'IETF protocol assignments'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['2002::', 16, 'ipv6', '6to4'],
  ['3fff::', 20, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique local (ULA)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const lists = RANGES.map(([net, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, label };
});

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address. */
export function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const g = expandIpv6(address)
    .split(':')
    .map((x) => Number.parseInt(x, 16));
  const zeros5 = g.slice(0, 5).every((x) => x === 0);
  const mapped = zeros5 && g[5] === 0xffff;
  const compatible = zeros5 && g[5] === 0 && ((g[6] as number) !== 0 || (g[7] as number) > 1);
  if (!mapped && !compatible) return undefined;
  const hi = g[6] as number;
  const lo = g[7] as number;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address of a translation or tunnel range carries, and which form:
 * NAT64 well-known prefix `64:ff9b::/96` and local-use `64:ff9b:1::/48` (RFC 6052 2.2, RFC 8215;
 * in a /48 prefix the IPv4 address spans bits 48-63 and 72-87, around the zero "u" octet), 6to4
 * `2002::/16` (RFC 3056 2: bits 16-47) and Teredo `2001::/32` (RFC 4380 4: the server in bits
 * 32-63, the client as the complement of the last 32 bits).
 */
export function tunnelledIpv4(address: string): { form: string; ipv4: string[] } | undefined {
  if (isIP(address) !== 6) return undefined;
  const g = expandIpv6(address)
    .split(':')
    .map((x) => Number.parseInt(x, 16)) as [number, number, number, number, number, number, number, number];
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    if (g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) return { form: 'NAT64', ipv4: [v4(g[6], g[7])] };
    if (g[2] === 1) return { form: 'local-use NAT64', ipv4: [v4(g[3], ((g[4] & 255) << 8) | (g[5] >> 8))] };
    return undefined;
  }
  if (g[0] === 0x2002) return { form: '6to4', ipv4: [v4(g[1], g[2])] };
  if (g[0] === 0x2001 && g[1] === 0) {
    return { form: 'Teredo', ipv4: [v4(g[2], g[3]), v4(~g[6] & 0xffff, ~g[7] & 0xffff)] };
  }
  return undefined;
}

/** Why `address` is not a public address, or undefined when it is public. */
export function reservedRange(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const mapped = embeddedIpv4(address);
    if (mapped) {
      const inner = reservedRange(mapped);
      return inner ? `IPv4-mapped ${inner}` : undefined;
    }
    // An address that carries an IPv4 address reaches that address: a reserved one is refused
    // whatever the prefix. The well-known NAT64 prefix is otherwise public (RFC 6052 3.1); the
    // local-use NAT64, 6to4 and Teredo ranges are refused whole (below, RFC 6890 and RFC 7526).
    const tunnel = tunnelledIpv4(address);
    if (tunnel) {
      for (const inner of tunnel.ipv4) {
        const why = reservedRange(inner);
        if (why) return `${tunnel.form} of ${inner} (${why})`;
      }
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, family: f, label } of lists) if (f === type && list.check(address, type)) return label;
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  return reservedRange(address) === undefined;
}

/** The addresses an audit may contact or look up: public ones, or all with --allow-private-targets. */
export function allowedAddresses(addresses: string[], allowPrivateTargets: boolean): string[] {
  return allowPrivateTargets ? addresses : addresses.filter((a) => reservedRange(a) === undefined);
}

/** One spelling per address: IPv4 dotted, IPv6 expanded in lower case, an IPv4-mapped one as its IPv4. */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  return embeddedIpv4(address) ?? expandIpv6(address).toLowerCase();
}

/** Whether two textual addresses are the same address. */
export function sameAddress(a: string, b: string): boolean {
  return isIP(a) !== 0 && isIP(b) !== 0 && canonicalAddress(a) === canonicalAddress(b);
}

/** PTR owner name of an address (RFC 1035 3.5, RFC 3596 2.5). */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  const full = expandIpv6(address);
  return `${full.replaceAll(':', '').split('').reverse().join('.')}.ip6.arpa`;
}

export function expandIpv6(address: string): string {
  let a = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const p = (v4[1] as string).split('.').map(Number);
    a = a.replace(
      v4[1] as string,
      `${(((p[0] as number) << 8) | (p[1] as number)).toString(16)}:${(((p[2] as number) << 8) | (p[3] as number)).toString(16)}`,
    );
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}
