/**
 * The DNS wire format on the audit's hot path: one query encoder (RFC 1035 4.1 with an EDNS0 OPT
 * record, RFC 6891 6.1) and one answer decoder that reads only what the checks use. Every record
 * of every section is walked and bounds-checked, so a malformed message is told apart as before;
 * but only the rdata of the type asked and of CNAMEs in the answer section is decoded, and of the
 * authority section only the SOA's TTLs (negative caching, RFC 2308 5). RRSIGs, NSEC(3)s and the
 * rest are skipped unread: the queries carry the DO bit, so they come back with every answer.
 *
 * Hand-written rather than dns2's codec (kept for tests' servers) or dns-packet: both decode every
 * record of every section into objects, which cost 6 to 10 times more CPU per answer on the lab's
 * answers (docs/performance.md has the measurement).
 */
import { randomFillSync } from 'node:crypto';
import type { DsRecord, MxRecord, SoaRecord, SrvRecord, TlsaRecord, TxtRecord } from './records.js';

/** A message that does not follow the wire format: "could not look". */
export class WireError extends Error {
  readonly code = 'EMALFORMED';
}

export const CNAME = 5;
const SOA = 6;
const OPT = 41;

/** A record of the answer section whose rdata was decoded (the type asked, or a CNAME). */
export interface WireRecord {
  /** Lower case, no trailing dot. */
  owner: string;
  type: number;
  ttl: number;
  value: unknown;
}

export interface WireAnswer {
  id: number;
  /** With the extended bits of the OPT record (RFC 6891 6.1.3). */
  rcode: number;
  tc: boolean;
  ad: boolean;
  /** The question, lower case without trailing dot (undefined when the message has none). */
  qname: string | undefined;
  qtype: number;
  records: WireRecord[];
  /** The SOA of the authority section, as a negative answer's TTL: min(its TTL, its MINIMUM) (RFC 2308 5). */
  negativeTtl: number | undefined;
}

// Random query IDs (RFC 5452 9.2) drawn from a block refilled now and then, not one call a query.
const ids = Buffer.alloc(4096);
let idAt = ids.length;

export function randomId(): number {
  if (idAt >= ids.length) {
    randomFillSync(ids);
    idAt = 0;
  }
  const id = ids.readUInt16BE(idAt);
  idAt += 2;
  return id;
}

/**
 * A query for `name` (ASCII, with or without the trailing dot; "" or "." for the root) of type
 * `qtype`, RD set, CD as asked, and an OPT record with DO and a 1232-byte payload (DNS flag day 2020).
 */
export function encodeQuery(id: number, name: string, qtype: number, cd: boolean): Buffer {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const nameLength = n === '' ? 1 : n.length + 2;
  if (nameLength > 255) throw new WireError(`name ${name} is longer than 255 octets`);
  const buf = Buffer.allocUnsafe(12 + nameLength + 4 + 11);
  buf.writeUInt16BE(id, 0);
  buf[2] = 0x01; // RD
  buf[3] = cd ? 0x10 : 0x00;
  buf.writeUInt32BE(0x00010000, 4); // QDCOUNT 1, ANCOUNT 0
  buf.writeUInt32BE(0x00000001, 8); // NSCOUNT 0, ARCOUNT 1
  let off = 12;
  if (n !== '') {
    let start = 0;
    while (start <= n.length) {
      let dot = n.indexOf('.', start);
      if (dot < 0) dot = n.length;
      const len = dot - start;
      if (len < 1 || len > 63) throw new WireError(`name ${name} has a label of ${len} octets`);
      buf[off++] = len;
      for (let i = start; i < dot; i++) {
        const c = n.charCodeAt(i);
        if (c > 0x7f) throw new WireError(`name ${name} is not ASCII`);
        buf[off++] = c;
      }
      start = dot + 1;
    }
  }
  buf[off++] = 0;
  buf.writeUInt16BE(qtype, off);
  buf.writeUInt16BE(1, off + 2); // IN
  off += 4;
  // OPT: root owner, type 41, payload 1232, extended rcode 0, version 0, DO, no options.
  buf[off] = 0;
  buf.writeUInt16BE(OPT, off + 1);
  buf.writeUInt16BE(1232, off + 3);
  buf.writeUInt32BE(0x00008000, off + 5);
  buf.writeUInt16BE(0, off + 9);
  return buf;
}

/** Offset just past the name read last by `readName`. */
let nameEnd = 0;
/** The octets of the name being read, dots between labels (at most 255 with them, RFC 1035 2.3.4). */
const nameOctets = Buffer.alloc(256);

/**
 * Reads a possibly compressed name (RFC 1035 4.1.4) at `start`; sets `nameEnd`. The labels' octets
 * are gathered and turned into one string at the end, not a string per label.
 */
function readName(msg: Buffer, start: number, limit: number): string {
  let off = start;
  let jumped = false;
  let hops = 0;
  let total = 1;
  let n = 0;
  for (;;) {
    if (off >= limit) throw new WireError('a name runs past its end');
    const len = msg[off] as number;
    if (len === 0) {
      if (!jumped) nameEnd = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= limit) throw new WireError('a compression pointer runs past its end');
      if (!jumped) {
        nameEnd = off + 2;
        jumped = true;
        // After a pointer, labels may lie anywhere in the message.
        limit = msg.length;
      }
      // At most 127 labels in a name: more hops than that is a pointer loop.
      if (++hops > 127) throw new WireError('a compression pointer loop');
      off = ((len & 0x3f) << 8) | (msg[off + 1] as number);
      continue;
    }
    if (len & 0xc0) throw new WireError(`a label type 0x${len.toString(16)} that does not exist`);
    total += len + 1;
    if (total > 255) throw new WireError('a name longer than 255 octets');
    if (off + 1 + len > limit) throw new WireError('a label runs past its end');
    if (n > 0) nameOctets[n++] = 0x2e;
    for (let i = off + 1; i <= off + len; i++) nameOctets[n++] = msg[i] as number;
    off += 1 + len;
  }
  return n === 0 ? '' : nameOctets.toString('latin1', 0, n).toLowerCase();
}

/** Offset past the name at `off`, without reading it. */
function skipName(msg: Buffer, off: number): number {
  for (let n = 0; n < 128; n++) {
    if (off >= msg.length) throw new WireError('a name runs past the end of the message');
    const len = msg[off] as number;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) throw new WireError('a compression pointer runs past the end of the message');
      return off + 2;
    }
    if (len & 0xc0) throw new WireError(`a label type 0x${len.toString(16)} that does not exist`);
    off += 1 + len;
  }
  throw new WireError('a name of more than 127 labels');
}

function ipv6(msg: Buffer, off: number): string {
  const segments: string[] = new Array(8);
  let bestStart = -1;
  let bestLen = 0;
  let curStart = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    const v = msg.readUInt16BE(off + 2 * i);
    segments[i] = v.toString(16);
    if (v === 0) {
      if (curLen === 0) curStart = i;
      curLen++;
      if (curLen > bestLen) {
        bestLen = curLen;
        bestStart = curStart;
      }
    } else curLen = 0;
  }
  // The longest run of two or more zero groups becomes "::" (RFC 5952 4.2), the first if tied.
  if (bestLen < 2) return segments.join(':');
  return `${segments.slice(0, bestStart).join(':')}::${segments.slice(bestStart + bestLen).join(':')}`;
}

/** The rdata of one record as records.ts types it; undefined when it is malformed (the record is dropped). */
function rdata(msg: Buffer, type: number, off: number, len: number): unknown {
  const end = off + len;
  switch (type) {
    case 1: // A
      return len === 4 ? `${msg[off]}.${msg[off + 1]}.${msg[off + 2]}.${msg[off + 3]}` : undefined;
    case 28: // AAAA
      return len === 16 ? ipv6(msg, off) : undefined;
    case 2: // NS
    case 5: // CNAME
    case 12: {
      // PTR
      const target = readName(msg, off, end);
      return nameEnd === end ? target : undefined;
    }
    case 15: {
      if (len < 3) return undefined;
      const exchange = readName(msg, off + 2, end);
      if (nameEnd !== end) return undefined;
      return { preference: msg.readUInt16BE(off), exchange } satisfies MxRecord;
    }
    case 16: {
      // TXT (RFC 1035 3.3.14): one or more character-strings, kept apart.
      const strings: string[] = [];
      let p = off;
      while (p < end) {
        const l = msg[p] as number;
        if (p + 1 + l > end) return undefined;
        strings.push(msg.toString('utf8', p + 1, p + 1 + l));
        p += 1 + l;
      }
      return { strings, text: strings.length === 1 ? (strings[0] as string) : strings.join('') } satisfies TxtRecord;
    }
    case 33: {
      if (len < 7) return undefined;
      const target = readName(msg, off + 6, end);
      if (nameEnd !== end) return undefined;
      return {
        priority: msg.readUInt16BE(off),
        weight: msg.readUInt16BE(off + 2),
        port: msg.readUInt16BE(off + 4),
        target,
      } satisfies SrvRecord;
    }
    case SOA: {
      const primary = readName(msg, off, end);
      const admin = readName(msg, nameEnd, end);
      if (nameEnd + 20 !== end) return undefined;
      return {
        primary,
        admin,
        serial: msg.readUInt32BE(nameEnd),
        minimum: msg.readUInt32BE(nameEnd + 16),
      } satisfies SoaRecord;
    }
    case 43: // DS (RFC 4034 5.1)
      if (len < 4) return undefined;
      return {
        keyTag: msg.readUInt16BE(off),
        algorithm: msg[off + 2] as number,
        digestType: msg[off + 3] as number,
        digest: msg.toString('hex', off + 4, end),
      } satisfies DsRecord;
    case 52: // TLSA (RFC 6698 2.1)
      if (len < 3) return undefined;
      return {
        usage: msg[off] as number,
        selector: msg[off + 1] as number,
        matchingType: msg[off + 2] as number,
        data: msg.toString('hex', off + 3, end),
      } satisfies TlsaRecord;
    default:
      return undefined;
  }
}

const clampTtl = (ttl: number): number => Math.min(ttl, 0x7fffffff);

/**
 * Decodes an answer to a question of type `qtype`. Throws WireError when the message does not
 * follow the wire format (a record's rdata that does not parse only drops that record, as before).
 */
export function decodeAnswer(msg: Buffer, qtype: number): WireAnswer {
  if (msg.length < 12) throw new WireError(`a message of ${msg.length} octets, shorter than a header`);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  const out: WireAnswer = {
    id: msg.readUInt16BE(0),
    rcode: flags & 0x0f,
    tc: (flags & 0x0200) !== 0,
    ad: (flags & 0x0020) !== 0,
    qname: undefined,
    qtype: -1,
    records: [],
    negativeTtl: undefined,
  };
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const qname = readName(msg, off, msg.length);
    off = nameEnd;
    if (off + 4 > msg.length) throw new WireError('the question runs past the end of the message');
    if (i === 0) {
      out.qname = qname;
      out.qtype = msg.readUInt16BE(off);
    }
    off += 4;
  }
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const owner = off;
    const fixed = skipName(msg, off);
    if (fixed + 10 > msg.length) throw new WireError('a record runs past the end of the message');
    const type = msg.readUInt16BE(fixed);
    const ttl = clampTtl(msg.readUInt32BE(fixed + 4));
    const len = msg.readUInt16BE(fixed + 8);
    const start = fixed + 10;
    off = start + len;
    if (off > msg.length) throw new WireError(`a record's RDLENGTH ${len} runs past the end of the message`);
    if (i < an) {
      if (type !== qtype && type !== CNAME) continue;
      const value = rdata(msg, type, start, len);
      if (value === undefined) continue;
      // An owner that points at the question's name (offset 12, as answers mostly are) is that name.
      const ownerName =
        qd > 0 && msg[owner] === 0xc0 && msg[owner + 1] === 12
          ? (out.qname as string)
          : readName(msg, owner, msg.length);
      out.records.push({ owner: ownerName, type, ttl, value });
    } else if (i < an + ns) {
      if (type !== SOA || len < 22) continue;
      const soa = rdata(msg, SOA, start, len) as SoaRecord | undefined;
      if (soa) out.negativeTtl = Math.min(ttl, clampTtl(soa.minimum));
    } else if (type === OPT) {
      // RFC 6891 6.1.3: the upper 8 bits of a 12-bit RCODE.
      out.rcode |= (msg[fixed + 4] as number) << 4;
    }
  }
  return out;
}
