/**
 * The tag=value lists of DKIM (RFC 6376 3.2), DMARC (RFC 7489 6.4), BIMI and TLS-RPT: tags
 * separated by ";", white space around tags and values ignored, a final ";" allowed.
 */
export interface TagList {
  tags: [string, string][];
  get(name: string): string | undefined;
  error?: string;
}

export function parseTagList(text: string, opts: { lowerNames?: boolean } = {}): TagList {
  const tags: [string, string][] = [];
  let error: string | undefined;
  const seen = new Set<string>();
  const parts = text.split(';');
  if (parts.length > 1 && (parts.at(-1) as string).trim() === '') parts.pop();
  for (const part of parts) {
    const p = part.trim();
    if (p === '') {
      error ??= 'an empty tag between two ";"';
      continue;
    }
    const eq = p.indexOf('=');
    if (eq <= 0) {
      error ??= `"${p}" is not tag=value`;
      continue;
    }
    let name = p.slice(0, eq).trim();
    if (opts.lowerNames) name = name.toLowerCase();
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      error ??= `"${name}" is not a valid tag name`;
      continue;
    }
    if (seen.has(name)) error ??= `the tag "${name}" appears twice`;
    seen.add(name);
    tags.push([name, p.slice(eq + 1).trim()]);
  }
  const list: TagList = { tags, get: (n) => tags.find(([k]) => k === n)?.[1] };
  if (error) list.error = error;
  return list;
}

/** Whether the list starts with `v=<version>`, as DMARC, TLS-RPT and BIMI require. */
export function startsWithVersion(list: TagList, version: string): boolean {
  const [first] = list.tags;
  return first?.[0] === 'v' && first[1] === version;
}
