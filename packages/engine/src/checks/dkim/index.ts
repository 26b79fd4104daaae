/**
 * DKIM keys (RFC 6376 3.6.1, RFC 8301, RFC 8463) under the selectors given, or under a built-in
 * list of common ones: whether a key is published, revoked (empty p=), in testing (t=y), its
 * type and size, and whether the record parses and the key loads.
 */
import { createPublicKey } from 'node:crypto';
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import { type Why, why } from '../../params.js';
import type { Finding } from '../../types.js';
import { parseTagList } from '../taglist.js';

/** Selectors tried when none are given: defaults of common mail hosts and services. */
export const COMMON_SELECTORS = [
  'default',
  'dkim',
  'mail',
  'selector1',
  'selector2',
  'google',
  'k1',
  'k2',
  'k3',
  's1',
  's2',
  'key1',
  'key2',
  'dkim1',
  'smtp',
  'mx',
  'email',
  'x',
  'sig1',
  'mandrill',
  'mailjet',
  'zoho',
  'protonmail',
  'protonmail2',
  'protonmail3',
  'fm1',
  'fm2',
  'fm3',
  'cm',
  'pm',
  'everlytickey1',
  'everlytickey2',
  'hs1',
  'hs2',
  '20230601',
  '20221208',
  '20210112',
  '20161025',
] as const;

export interface DkimKeyInfo {
  selector: string;
  name: string;
  text: string;
  revoked: boolean;
  testing: boolean;
  /** The services of `s=` (RFC 6376 3.6.1): `*` or `email` means usable for mail. @default ['*'] */
  services: string[];
  keyType?: string;
  bits?: number;
  error?: string;
  /** `error` as a reason code with its params (params.ts). */
  why?: Why;
}

export interface DkimInput {
  domain: string;
  selectors: string[];
  keys: DkimKeyInfo[];
  /** Selectors whose lookup failed: "missing" cannot be claimed while any did. */
  failedSelectors: string[];
}

/** Whether the key's service types (`s=`) include email: `email` or `*` (RFC 6376 3.6.1). */
export function forEmail(info: Pick<DkimKeyInfo, 'services'>): boolean {
  return info.services.some((s) => s === '*' || s === 'email');
}

/**
 * Parses a DKIM key record and loads its key (RFC 6376 3.6.1). Pure. Tag names are
 * case-sensitive (3.2); white space around tags and an empty tag between ";" are tolerated as
 * verifiers tolerate them (docs/conformance.md).
 */
export function parseDkimKey(selector: string, name: string, text: string): DkimKeyInfo {
  const info: DkimKeyInfo = { selector, name, text, revoked: false, testing: false, services: ['*'] };
  const list = parseTagList(text, { skipEmpty: true });
  if (list.error) return { ...info, error: list.error, ...(list.why ? { why: list.why } : {}) };
  const v = list.get('v');
  if (v !== undefined && (list.tags[0]?.[0] !== 'v' || v !== 'DKIM1')) {
    return v !== 'DKIM1'
      ? { ...info, error: `v=${v} is not DKIM1`, why: why('dkim.version', { version: v }) }
      : { ...info, error: '"v" must be the first tag', why: why('dkim.version_not_first') };
  }
  const flags = (list.get('t') ?? '').split(':').map((f) => f.trim().toLowerCase());
  info.testing = flags.includes('y');
  const s = list.get('s');
  if (s !== undefined) info.services = s.split(':').map((x) => x.trim().toLowerCase());
  const k = (list.get('k') ?? 'rsa').toLowerCase();
  info.keyType = k;
  // An unknown key type makes the record unusable whatever p= holds (6.1.2).
  if (k !== 'rsa' && k !== 'ed25519') {
    return { ...info, error: `unknown key type k=${k}`, why: why('dkim.key_type_unknown', { keyType: k }) };
  }
  const p = list.get('p');
  if (p === undefined) return { ...info, error: 'the required tag "p" is missing', why: why('dkim.p_missing') };
  const b64 = p.replace(/\s+/g, '');
  if (b64 === '') return { ...info, revoked: true };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    return { ...info, error: 'p= is not base64', why: why('dkim.p_not_base64') };
  }
  const loaded = loadKey(k, b64);
  return 'error' in loaded ? { ...info, error: loaded.error, why: loaded.why } : { ...info, bits: loaded.bits };
}

type Loaded = { bits: number } | { error: string; why: Why };

/**
 * Keys loaded so far, by type and base64 text: a hosting provider signs many domains with one
 * key, and loading an RSA key is the costliest step of the audit's DNS part. Bounded: emptied when
 * full. The result depends on the text alone, so it can be shared by every audit of the process.
 */
const loadedKeys = new Map<string, Loaded>();
const MAX_LOADED_KEYS = 10_000;

function loadKey(k: 'rsa' | 'ed25519', b64: string): Loaded {
  const id = `${k}:${b64}`;
  const known = loadedKeys.get(id);
  if (known) return known;
  const result = decodeKey(k, b64);
  if (loadedKeys.size >= MAX_LOADED_KEYS) loadedKeys.clear();
  loadedKeys.set(id, result);
  return result;
}

function decodeKey(k: 'rsa' | 'ed25519', b64: string): Loaded {
  const der = Buffer.from(b64, 'base64');
  if (k === 'rsa') {
    for (const type of ['spki', 'pkcs1'] as const) {
      try {
        const key = createPublicKey({ key: der, format: 'der', type });
        if (key.asymmetricKeyType !== 'rsa') {
          const keyType = String(key.asymmetricKeyType);
          return { error: `k=rsa but the key is ${keyType}`, why: why('dkim.key_type_mismatch', { keyType }) };
        }
        return { bits: key.asymmetricKeyDetails?.modulusLength ?? 0 };
      } catch {}
    }
    return { error: 'p= does not hold an RSA public key', why: why('dkim.rsa_invalid') };
  }
  // k=ed25519 (RFC 8463 4.2): the raw 32-byte public key.
  if (der.length !== 32) {
    return {
      error: `an Ed25519 key is 32 bytes, not ${der.length}`,
      why: why('dkim.ed25519_length', { bytes: der.length }),
    };
  }
  return { bits: 256 };
}

export async function fetchDkim(dns: DnsClient, domain: string, selectors: readonly string[]): Promise<DkimInput> {
  const input: DkimInput = { domain, selectors: [...selectors], keys: [], failedSelectors: [] };
  await Promise.all(
    selectors.map(async (selector) => {
      const name = `${selector}._domainkey.${domain}`;
      const a = await dns.query(name, 'TXT');
      if (failed(a)) {
        input.failedSelectors.push(selector);
        return;
      }
      // A key record is one with p= (or v=DKIM1); other TXT at the name (a wildcard's SPF, say) is not.
      for (const r of a.records) {
        if (!/(^|;)\s*(p|v)\s*=/.test(r.text)) continue;
        input.keys.push(parseDkimKey(selector, name, r.text));
      }
    }),
  );
  input.keys.sort((x, y) => input.selectors.indexOf(x.selector) - input.selectors.indexOf(y.selector));
  return input;
}

export function evaluateDkim(input: DkimInput): Finding[] {
  const out: Finding[] = [];
  if (input.keys.length === 0) {
    if (input.failedSelectors.length === 0) {
      out.push(
        finding(
          'dkim.missing',
          `_domainkey.${input.domain}`,
          `No DKIM key was found for ${input.domain} under the ${input.selectors.length} selectors tried; give the selectors your mail service uses if it signs with others.`,
          { selectors: input.selectors },
        ),
      );
    }
    return out;
  }
  for (const k of input.keys) {
    const params = { selector: k.selector, keyType: k.keyType, bits: k.bits };
    if (k.error) {
      out.push(
        finding('dkim.syntax', k.name, `The DKIM key record at ${k.name} is not usable: ${k.error}.`, {
          selector: k.selector,
          ...k.why,
        }),
      );
      continue;
    }
    if (k.revoked) {
      out.push(
        finding('dkim.revoked', k.name, `The DKIM key at ${k.name} is revoked (empty p=).`, { selector: k.selector }),
      );
      continue;
    }
    if (!forEmail(k)) {
      out.push(
        finding(
          'dkim.key.not_for_email',
          k.name,
          `The DKIM key at ${k.name} is published for other services (s=${k.services.join(':')}), not email: verifiers do not accept mail signatures made with it (RFC 6376 3.6.1).`,
          { selector: k.selector, services: k.services },
        ),
      );
      continue;
    }
    if (k.testing) {
      out.push(
        finding(
          'dkim.testing',
          k.name,
          `The DKIM key at ${k.name} is in testing mode (t=y): receivers may treat signatures as unsigned.`,
          params,
        ),
      );
    }
    if (k.keyType === 'rsa' && k.bits !== undefined) {
      if (k.bits < 1024) {
        out.push(
          finding(
            'dkim.key.insecure',
            k.name,
            `The DKIM key at ${k.name} is RSA ${k.bits} bits: it can be factored, and RFC 8301 requires verifiers to reject it.`,
            params,
          ),
        );
      } else if (k.bits < 2048) {
        out.push(
          finding(
            'dkim.key.short',
            k.name,
            `The DKIM key at ${k.name} is RSA ${k.bits} bits; 2048 is the recommended size.`,
            params,
          ),
        );
      }
    }
  }
  return out;
}
