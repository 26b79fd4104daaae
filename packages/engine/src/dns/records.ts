/**
 * Record types the checks ask for and their decoded forms (wire.ts decodes them: names in lower
 * case without the trailing dot, TLSA (RFC 6698 2.1) and DS (RFC 4034 5.1) data in hex).
 */

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
