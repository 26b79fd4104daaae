/**
 * Record types the checks ask for and their decoded forms. dns2 decodes most; TLSA (RFC 6698
 * 2.1) and DS (RFC 4034 5.1) arrive as raw RDATA and are decoded here.
 */
import type { Packet } from 'dns2';

export const TYPE_CODES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DS: 43,
  TLSA: 52,
} as const;

export type RRType = keyof typeof TYPE_CODES;

export interface MxRecord {
  preference: number;
  /** Lower case, no trailing dot; "" for the root (null MX, RFC 7505). */
  exchange: string;
}
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  /** Hex. */
  data: string;
}
export interface DsRecord {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
}
export interface SoaRecord {
  primary: string;
  admin: string;
  serial: number;
  minimum: number;
}
/** TXT: the character-strings of one record, and their concatenation (RFC 7208 3.3). */
export interface TxtRecord {
  strings: string[];
  text: string;
}

export interface RecordTypes {
  A: string;
  AAAA: string;
  CNAME: string;
  NS: string;
  PTR: string;
  MX: MxRecord;
  TXT: TxtRecord;
  SRV: SrvRecord;
  TLSA: TlsaRecord;
  DS: DsRecord;
  SOA: SoaRecord;
}

export type RecordOf<T extends RRType> = RecordTypes[T];

const name = (v: unknown): string =>
  String(v ?? '')
    .replace(/\.$/, '')
    .toLowerCase();

function raw(r: Packet['answers'][number]): Buffer {
  const data = (r as unknown as { data: unknown }).data;
  return Buffer.isBuffer(data) ? data : Buffer.alloc(0);
}

function decodeOne(type: RRType, r: Packet['answers'][number]): unknown {
  const a = r as unknown as Record<string, unknown>;
  switch (type) {
    case 'A':
    case 'AAAA':
      return String(a.address);
    case 'CNAME':
    case 'PTR':
      return name(a.domain);
    case 'NS':
      return name(a.ns);
    case 'MX':
      return { preference: Number(a.priority), exchange: name(a.exchange) } satisfies MxRecord;
    case 'TXT': {
      const strings = ([] as unknown[]).concat(a.data ?? []).map(String);
      return { strings, text: strings.join('') } satisfies TxtRecord;
    }
    case 'SRV':
      return {
        priority: Number(a.priority),
        weight: Number(a.weight),
        port: Number(a.port),
        target: name(a.target),
      } satisfies SrvRecord;
    case 'SOA':
      return {
        primary: name(a.primary),
        admin: name(a.admin),
        serial: Number(a.serial),
        minimum: Number(a.minimum),
      } satisfies SoaRecord;
    case 'TLSA': {
      const b = raw(r);
      if (b.length < 3) return undefined;
      return {
        usage: b[0] as number,
        selector: b[1] as number,
        matchingType: b[2] as number,
        data: b.subarray(3).toString('hex'),
      } satisfies TlsaRecord;
    }
    case 'DS': {
      const b = raw(r);
      if (b.length < 4) return undefined;
      return {
        keyTag: b.readUInt16BE(0),
        algorithm: b[2] as number,
        digestType: b[3] as number,
        digest: b.subarray(4).toString('hex'),
      } satisfies DsRecord;
    }
  }
}

/** Decodes answers of one type; records too short to be valid are dropped. */
export function decodeRecords<T extends RRType>(type: T, rs: Packet['answers']): RecordOf<T>[] {
  return rs.map((r) => decodeOne(type, r)).filter((x) => x !== undefined) as RecordOf<T>[];
}
