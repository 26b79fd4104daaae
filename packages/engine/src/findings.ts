/**
 * Building findings: a check names the code, the subject and the parameters; severity and
 * category come from the code table, the message is for people.
 */
import { CODES, type Code } from './codes.js';
import type { ParamsOf } from './params.js';
import type { Finding, FixRecord, Severity } from './types.js';

export function finding<C extends Code>(
  code: C,
  subject: string,
  message: string,
  params: ParamsOf<C> = {},
  extra: { fix?: FixRecord; severity?: Severity; category?: Finding['category'] } = {},
): Finding {
  const info = CODES[code];
  const f: Finding = {
    code,
    severity: extra.severity ?? info.severity,
    category: extra.category ?? info.category,
    subject,
    message,
    params: params as Record<string, unknown>,
  };
  if (extra.fix) f.fix = extra.fix;
  return f;
}

/** Keeps the first finding of each code and subject (CONTRACT.md section 3: once per subject). */
export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}\u0000${f.subject}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
