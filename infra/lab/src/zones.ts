/**
 * Zone files for the authoritative server, built from the lab model: a fake root that keeps every
 * lookup on this machine, the signed `test.` zone, one zone per scenario domain, the reverse zones
 * (IPv4 and IPv6) and the DNSBL zones. Signed zones are signed with ldns-signzone (ECDSA P-256, NSEC) and get a DS
 * in their parent; `test.` is the resolver's only trust anchor.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUTH_ADDRESS,
  BLACKHOLE_ADDRESS,
  nibbles,
  REVERSE_ZONE,
  REVERSE6_ZONE,
  reverseName,
  reverseName6,
} from './addresses.js';
import type { LabModel, Materials, Rec, ZoneSpec } from './model.js';
import { MIRRORED_DOMAIN_BLOCKLISTS, MIRRORED_IP_BLOCKLISTS } from './scenarios.js';

/** Nameserver name of every lab zone (its address is glue in the root and data in `test.`). */
export const NS_NAME = 'ns.test';
const DEFAULT_TTL = 60;
/** A TLSA association no certificate has. */
const WRONG_TLSA = 'ab'.repeat(32);

export interface BuiltZone {
  apex: string;
  file: string;
  signed: boolean;
}

export interface ZoneBuild {
  zones: BuiltZone[];
  /** `test. DS …` for the resolver's trust anchor. */
  trustAnchor: string;
}

/** Labels of a name, for ordering ("." has none). */
function depth(name: string): number {
  return name === '.' ? 0 : name.split('.').length;
}

/** Whether `name` is `zone` or below it. */
export function inZone(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

function fqdn(name: string): string {
  return name === '.' ? '.' : `${name}.`;
}

/** TXT RDATA: quoted strings of at most 255 bytes (RFC 1035 3.3.14). */
function txtRdata(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255).toString('latin1');
    parts.push(`"${chunk.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  }
  return parts.join(' ');
}

function renderRecord(r: Rec, m: Materials): string {
  const data = typeof r.data === 'function' ? r.data(m) : r.data;
  const rdata = r.type === 'TXT' ? txtRdata(data) : data;
  return `${fqdn(r.name)}\t${r.ttl ?? DEFAULT_TTL}\tIN\t${r.type}\t${rdata}`;
}

/** Records the model implies: host addresses, PTRs, TLSAs, blocklist entries. */
export function derivedRecords(model: LabModel): Rec[] {
  const out: Rec[] = [];
  for (const h of model.hosts) {
    out.push({ name: h.name, type: 'A', data: h.address });
    if (h.address6) out.push({ name: h.name, type: 'AAAA', data: h.address6 });
    const ptr = h.ptr ?? 'match';
    if (ptr !== 'none') {
      const target = `${ptr === 'match' ? h.name : ptr.name}.`;
      out.push({ name: reverseName(h.address), type: 'PTR', data: target });
      if (h.address6) out.push({ name: reverseName6(h.address6), type: 'PTR', data: target });
    }
    if (h.tlsa) {
      const name = h.name;
      out.push({
        name: `_25._tcp.${name}`,
        type: 'TLSA',
        data: (m) => `3 1 1 ${h.tlsa === 'match' ? m.spkiSha256(name) : WRONG_TLSA}`,
      });
    }
    for (const zone of h.dnsbl ? MIRRORED_IP_BLOCKLISTS : []) {
      // RFC 5782 2.1 (IPv4: octets reversed) and 2.4 (IPv6: nibbles reversed).
      const listings = [[h.address, `${h.address.split('.').reverse().join('.')}.${zone}`]];
      if (h.address6) listings.push([h.address6, `${nibbles(h.address6).reverse().join('.')}.${zone}`]);
      for (const [address, owner] of listings as [string, string][]) {
        out.push({ name: owner, type: 'A', data: h.dnsbl === 'listed' ? '127.0.0.2' : '127.255.255.254' });
        if (h.dnsbl === 'listed') {
          out.push({ name: owner, type: 'TXT', data: `Listed by the mailaudit lab: ${address} sent lab spam` });
        }
      }
    }
  }
  for (const d of model.listedDomains) {
    for (const zone of MIRRORED_DOMAIN_BLOCKLISTS) {
      out.push(
        { name: `${d}.${zone}`, type: 'A', data: '127.0.1.2' },
        { name: `${d}.${zone}`, type: 'TXT', data: `Listed by the mailaudit lab: ${d} in lab spam` },
      );
    }
  }
  return out;
}

/** All zones served: the fixed infrastructure ones and the model's. */
export function allZones(model: LabModel): ZoneSpec[] {
  return [
    { apex: '.', dnssec: 'unsigned' },
    { apex: 'test', dnssec: 'signed' },
    { apex: REVERSE_ZONE, dnssec: 'unsigned' },
    { apex: REVERSE6_ZONE, dnssec: 'unsigned' },
    ...model.zones,
  ];
}

function parentOf(apex: string, zones: ZoneSpec[]): ZoneSpec | undefined {
  let best: ZoneSpec | undefined;
  for (const z of zones) {
    if (z.apex === apex || !inZone(apex, z.apex)) continue;
    if (!best || depth(z.apex) > depth(best.apex)) best = z;
  }
  return best;
}

/** Generates ECDSA P-256 key material for `apex` and signs `file`; returns the DS RDATA. */
function sign(apex: string, file: string, keyDir: string, now: Date): { signedFile: string; ds: string } {
  const base = execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', fqdn(apex)], { cwd: keyDir })
    .toString()
    .trim();
  const ds = readFileSync(join(keyDir, `${base}.ds`), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(3)
    .join(' ');
  const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const inception = stamp(new Date(now.getTime() - 86_400_000));
  const expiration = stamp(new Date(now.getTime() + 90 * 86_400_000));
  const signedFile = `${file}.signed`;
  execFileSync('ldns-signzone', ['-i', inception, '-e', expiration, '-f', signedFile, file, join(keyDir, base)], {
    cwd: keyDir,
  });
  return { signedFile, ds };
}

/** Generates a key for `apex` that signs nothing and returns its DS RDATA: a DS matching no key of the zone. */
function strayDs(apex: string, keyDir: string): string {
  const base = execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', fqdn(apex)], { cwd: keyDir })
    .toString()
    .trim();
  return readFileSync(join(keyDir, `${base}.ds`), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(3)
    .join(' ');
}

/** Alters the RDATA of the first `type` record at `name` in a signed zone file, leaving its RRSIG. */
function tamper(file: string, name: string, type: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => {
    const f = l.split('\t');
    return f[0] === fqdn(name) && f[3] === type;
  });
  if (i < 0) throw new Error(`lab: nothing to tamper with at ${name} ${type} in ${file}`);
  const f = (lines[i] as string).split('\t');
  if (type === 'TXT') f[4] = txtRdata('v=spf1 +all tampered-after-signing');
  else if (type === 'MX') f[4] = (f[4] ?? '').replace(/^\d+/, '99');
  else throw new Error(`lab: tampering with ${type} records is not implemented`);
  lines[i] = f.join('\t');
  writeFileSync(file, lines.join('\n'));
}

/** Writes every zone file under `dir` and signs the signed ones, children before parents. */
export function buildZones(
  model: LabModel,
  m: Materials,
  dir: string,
  now: Date,
  only?: ReadonlySet<string>,
): ZoneBuild {
  const zonesDir = join(dir, 'zones');
  const keyDir = join(dir, 'keys');
  mkdirSync(zonesDir, { recursive: true });
  mkdirSync(keyDir, { recursive: true });

  const zones = allZones(model);
  const served = zones.filter((z) => (z.server ?? 'lab') === 'lab');
  const records = [
    { name: NS_NAME, type: 'A', data: AUTH_ADDRESS } satisfies Rec,
    ...model.records,
    ...derivedRecords(model),
  ];
  // Each record goes to the deepest served zone containing its owner.
  const byZone = new Map<string, Rec[]>(served.map((z) => [z.apex, []]));
  for (const r of records) {
    let best: ZoneSpec | undefined;
    for (const z of served) if (inZone(r.name, z.apex) && (!best || depth(z.apex) > depth(best.apex))) best = z;
    if (!best) throw new Error(`lab: no zone serves ${r.name}`);
    byZone.get(best.apex)?.push(r);
  }

  const dsOf = new Map<string, string>();
  const built: BuiltZone[] = [];
  const serial = Math.floor(now.getTime() / 1000);
  for (const z of [...served].sort((a, b) => depth(b.apex) - depth(a.apex))) {
    if (only && !only.has(z.apex)) continue;
    if (only && (z.dnssec ?? 'signed') !== 'unsigned')
      throw new Error(`lab: only unsigned zones are rewritten in place, not ${z.apex}`);
    const lines = [
      `$TTL ${DEFAULT_TTL}`,
      `${fqdn(z.apex)}\t${DEFAULT_TTL}\tIN\tSOA\t${NS_NAME}. hostmaster.${z.apex === '.' ? 'test' : z.apex}. ${serial} 3600 600 86400 ${DEFAULT_TTL}`,
      `${fqdn(z.apex)}\t${DEFAULT_TTL}\tIN\tNS\t${NS_NAME}.`,
    ];
    // Delegations to the zones directly below this one.
    for (const child of zones.filter((c) => parentOf(c.apex, zones)?.apex === z.apex)) {
      if ((child.server ?? 'lab') === 'blackhole') {
        lines.push(`${fqdn(child.apex)}\t${DEFAULT_TTL}\tIN\tNS\tns.${child.apex}.`);
        lines.push(`ns.${child.apex}.\t${DEFAULT_TTL}\tIN\tA\t${BLACKHOLE_ADDRESS}`);
        continue;
      }
      lines.push(`${fqdn(child.apex)}\t${DEFAULT_TTL}\tIN\tNS\t${NS_NAME}.`);
      if (inZone(NS_NAME, child.apex) && z.apex !== 'test') {
        lines.push(`${NS_NAME}.\t${DEFAULT_TTL}\tIN\tA\t${AUTH_ADDRESS}`);
      }
      const ds = dsOf.get(child.apex);
      if (ds) lines.push(`${fqdn(child.apex)}\t${DEFAULT_TTL}\tIN\tDS\t${ds}`);
    }
    for (const r of byZone.get(z.apex) ?? []) lines.push(renderRecord(r, m));

    const fileBase = z.apex === '.' ? 'root' : z.apex;
    const file = join(zonesDir, `${fileBase}.zone`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dnssec = z.dnssec ?? 'signed';
    if (dnssec === 'unsigned') {
      built.push({ apex: z.apex, file, signed: false });
      continue;
    }
    const { signedFile, ds } = sign(z.apex, file, keyDir, now);
    if (dnssec === 'bogus') {
      if (!z.tamper) throw new Error(`lab: bogus zone ${z.apex} needs a tamper target`);
      tamper(signedFile, z.tamper.name, z.tamper.type);
    }
    dsOf.set(z.apex, dnssec === 'ds-mismatch' ? strayDs(z.apex, keyDir) : ds);
    built.push({ apex: z.apex, file: signedFile, signed: true });
  }
  const testDs = dsOf.get('test');
  if (only) return { zones: built, trustAnchor: '' };
  if (!testDs) throw new Error('lab: the test. zone was not signed');
  return { zones: built, trustAnchor: `test. DS ${testDs}` };
}
