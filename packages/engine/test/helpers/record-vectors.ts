/**
 * Record vectors imported from other projects' test suites (fixtures/records/*.json), and what the
 * engine's parsers make of each: the outcome in the vectors' own terms (valid, invalid, revoked)
 * and the fields they name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { bimiError } from '../../src/checks/bimi/index.js';
import { forEmail, parseDkimKey } from '../../src/checks/dkim/index.js';
import { parseDmarc } from '../../src/checks/dmarc/index.js';
import { parseStsPolicy, parseStsRecord } from '../../src/checks/mta-sts/index.js';
import { tlsRptError } from '../../src/checks/tls-rpt/index.js';

export type VectorKind = 'dmarc' | 'dkim-key' | 'mta-sts-record' | 'mta-sts-policy' | 'tls-rpt' | 'bimi';
export type Outcome = 'valid' | 'invalid' | 'revoked';

export interface RecordVector {
  id: string;
  kind: VectorKind;
  input: string;
  expect: Outcome;
  fields?: Record<string, unknown>;
  source: string;
  comment?: string;
}

export interface RecordSuite {
  file: string;
  suite: string;
  origin: { repository: string; commit: string; paths: string[]; license: string };
  vectors: RecordVector[];
}

const dir = new URL('../fixtures/records/', import.meta.url);

export function loadRecordSuites(): RecordSuite[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Omit<RecordSuite, 'file'>) }));
}

/** A report URI without its "!size" suffix, as the vectors give addresses. */
const bare = (uri: string) => uri.replace(/\s*!.*$/, '');

/** What the engine makes of a vector's input: the outcome and the fields the vector names. */
export function engineOutcome(v: RecordVector): { outcome: Outcome; fields: Record<string, unknown>; error?: string } {
  switch (v.kind) {
    case 'dmarc': {
      const r = parseDmarc(v.input);
      if (!r.ok) return { outcome: 'invalid', fields: {}, error: r.error };
      const f: Record<string, unknown> = {
        p: r.record.p,
        pct: r.record.pct,
        rua: r.record.rua.map(bare),
        ruf: r.record.ruf.map(bare),
      };
      if (r.record.sp !== undefined) f.sp = r.record.sp;
      return { outcome: 'valid', fields: f };
    }
    case 'dkim-key': {
      const k = parseDkimKey('s', 's._domainkey.example', v.input);
      if (k.error) return { outcome: 'invalid', fields: {}, error: k.error };
      const fields = { keyType: k.keyType, bits: k.bits, testing: k.testing, forEmail: forEmail(k) };
      return { outcome: k.revoked ? 'revoked' : 'valid', fields };
    }
    case 'mta-sts-record': {
      const r = parseStsRecord(v.input);
      return r.ok ? { outcome: 'valid', fields: { id: r.id } } : { outcome: 'invalid', fields: {}, error: r.error };
    }
    case 'mta-sts-policy': {
      const r = parseStsPolicy(v.input);
      return r.ok
        ? { outcome: 'valid', fields: { mode: r.policy.mode, mx: r.policy.mx, maxAge: r.policy.maxAge } }
        : { outcome: 'invalid', fields: {}, error: r.error };
    }
    case 'tls-rpt': {
      const error = tlsRptError(v.input);
      return error === undefined ? { outcome: 'valid', fields: {} } : { outcome: 'invalid', fields: {}, error };
    }
    case 'bimi': {
      const error = bimiError(v.input);
      return error === undefined ? { outcome: 'valid', fields: {} } : { outcome: 'invalid', fields: {}, error };
    }
  }
}

/** Whether the engine agrees with the vector: same outcome, and every field the vector names equal. */
export function agrees(v: RecordVector): { ok: boolean; got: ReturnType<typeof engineOutcome> } {
  const got = engineOutcome(v);
  if (got.outcome !== v.expect) return { ok: false, got };
  for (const [k, want] of Object.entries(v.fields ?? {})) {
    if (JSON.stringify(got.fields[k]) !== JSON.stringify(want)) return { ok: false, got };
  }
  return { ok: true, got };
}

/**
 * Vectors the engine deliberately answers otherwise, with the reason (docs/conformance.md lists
 * each). A vector listed here that the engine comes to agree with fails the conformance test, so
 * that the list and the document stay true.
 */
export const DELIBERATE: Readonly<Record<string, string>> = {
  'mox/dmarc/9':
    'p= not directly after v=: RFC 9989 drops that order, receivers accept any order, and checkdmarc only warns; a critical dmarc.syntax would be a false alarm',
  'mox/dmarc/36':
    'no p= but a valid rua=: receivers act as p=none (RFC 7489 6.6.3), and the contract reports a missing p as dmarc.syntax',
  'mox/dmarc/37':
    'an invalid sp= with a valid rua=: receivers act as p=none (RFC 7489 6.6.3), and the contract reports a bad tag value as dmarc.syntax',
  'checkdmarc/dmarc/18':
    'no p= but a valid rua=: the contract reports a missing p as dmarc.syntax (RFC 9989 only warns)',
  'checkdmarc/dmarc/12': "np= is an RFC 9989 tag; under RFC 7489, the contract's DMARC, unknown tags are ignored (6.3)",
  'checkdmarc/dmarc/13': 'psd= is an RFC 9989 tag; under RFC 7489 unknown tags are ignored (6.3)',
  'checkdmarc/dmarc/14': 't= is an RFC 9989 tag; under RFC 7489 unknown tags are ignored (6.3)',
  'checkdmarc/dmarc/26':
    'RFC 9989 no longer reads pct=; the contract does (dmarc.pct.partial), so a pct over 100 is a syntax error',
  'checkdmarc/dmarc/27': 'RFC 9989 no longer reads pct=; the contract does, so a negative pct is a syntax error',
  'checkdmarc/dmarc/28':
    'RFC 9989 no longer reads pct=; the contract does, so a pct that is not a number is a syntax error',
  'checkdmarc/dmarc/29': 'RFC 9989 no longer reads ri=; RFC 7489 6.3 makes it a number of seconds',
  'mox/dkim-key/4':
    'white space after the last ";": a strict reading of RFC 6376 3.2, while verifiers (Stalwart\'s suite has such a record) accept it; dkim.syntax is critical and would be a false alarm',
  'stalwart-mail-auth/dmarc/5':
    'white space inside report URIs\' size suffixes ("!10 K", "! 2G"): RFC 7489 6.4\'s dmarc-uri has none, so the record is reported as dmarc.syntax for its owner to fix',
  'checkdmarc/mta-sts-policy/13':
    'an unknown policy field: RFC 8461 3.2 lets policies carry extension fields, senders ignore unknown ones, and mox accepts them',
  'checkdmarc/tls-rpt/3':
    'two rua= fields: RFC 8460 3 allows repeated rua fields (1*(field-delim tlsrpt-field)), and mox accepts them',
};
