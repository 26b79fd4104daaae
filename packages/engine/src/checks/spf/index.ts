/**
 * SPF (RFC 7208) as a receiver would meet it: the domain's record, then every include and
 * redirect recursively, counting DNS-querying terms (4.6.4: include, a, mx, ptr, exists and
 * redirect, at most 10) and void lookups (at most 2), and noting loops, missing targets, syntax
 * errors, the ptr mechanism and what `all` says.
 *
 * `fetchSpf` does the lookups and builds the tree; `evaluateSpf` turns it into findings.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { failed } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import type { Finding } from '../../types.js';
import { isSpfRecord, LOOKUP_MECHANISMS, type Mechanism, parseSpf, type SpfRecord } from './parse.js';

export { checkHost } from './check-host.js';
export * from './parse.js';

/** One record of the tree: its name, what was found there, and the records it leads to. */
export interface SpfNode {
  name: string;
  /** How this node was reached. */
  via: 'domain' | 'include' | 'redirect';
  state: 'ok' | 'missing' | 'multiple' | 'syntax' | 'failed' | 'loop' | 'not_followed';
  text?: string;
  record?: SpfRecord;
  error?: string;
  children: SpfNode[];
}

export interface SpfInput {
  domain: string;
  root: SpfNode;
  /** DNS-querying terms in the whole tree (RFC 7208 4.6.4). */
  lookups: number;
  /** Terms whose lookups found nothing (NXDOMAIN or no records). */
  voidLookups: number;
  /** The void terms, for evidence. */
  voidTerms: string[];
  /** Whether the domain has MX records (for the suggested record). */
  hasMx: boolean;
}

/** Beyond this many lookup terms the walk stops following: the verdict is already "too many". */
const WALK_LIMIT = 40;

export async function fetchSpf(dns: DnsClient, domain: string, hasMx: boolean): Promise<SpfInput> {
  const input: SpfInput = {
    domain,
    root: { name: domain, via: 'domain', state: 'ok', children: [] },
    lookups: 0,
    voidLookups: 0,
    voidTerms: [],
    hasMx,
  };

  async function isVoid(target: string, types: ('A' | 'AAAA' | 'MX' | 'TXT')[]): Promise<boolean> {
    const answers = await Promise.all(types.map((t) => dns.query(target, t)));
    if (answers.some(failed)) return false;
    return answers.every((a) => a.status === 'nxdomain' || a.status === 'nodata');
  }

  async function load(node: SpfNode, stack: string[]): Promise<void> {
    const txt = await dns.query(node.name, 'TXT');
    if (failed(txt)) {
      node.state = 'failed';
      return;
    }
    if (node.via !== 'domain' && (txt.status === 'nxdomain' || txt.status === 'nodata')) {
      input.voidLookups++;
      input.voidTerms.push(`${node.via}:${node.name}`);
    }
    const spf = txt.records.map((r) => r.text).filter(isSpfRecord);
    if (spf.length === 0) {
      node.state = 'missing';
      return;
    }
    if (spf.length > 1) {
      node.state = 'multiple';
      return;
    }
    node.text = spf[0] as string;
    const parsed = parseSpf(node.text);
    if (!parsed.ok) {
      node.state = 'syntax';
      node.error = parsed.error;
      return;
    }
    node.record = parsed.record;
    const followers: Promise<void>[] = [];
    const targetOf = (m: Mechanism) => m.domainSpec ?? node.name;
    for (const m of parsed.record.mechanisms) {
      if (!LOOKUP_MECHANISMS.has(m.name)) continue;
      input.lookups++;
      const target = targetOf(m).replace(/\.$/, '').toLowerCase();
      // Macros depend on the message being checked: counted, not followed.
      if (target.includes('%')) continue;
      if (m.name === 'include') {
        const child: SpfNode = { name: target, via: 'include', state: 'ok', children: [] };
        node.children.push(child);
        followers.push(follow(child, stack));
      } else if (m.name === 'a') {
        followers.push(
          isVoid(target, ['A', 'AAAA']).then((v) => {
            if (v) {
              input.voidLookups++;
              input.voidTerms.push(m.raw);
            }
          }),
        );
      } else if (m.name === 'mx' || m.name === 'exists') {
        followers.push(
          isVoid(target, [m.name === 'mx' ? 'MX' : 'A']).then((v) => {
            if (v) {
              input.voidLookups++;
              input.voidTerms.push(m.raw);
            }
          }),
        );
      }
      // ptr: its lookups depend on the connecting address; counted, not resolved here.
    }
    if (parsed.record.redirect !== undefined) {
      input.lookups++;
      const target = parsed.record.redirect.replace(/\.$/, '').toLowerCase();
      if (!target.includes('%')) {
        const child: SpfNode = { name: target, via: 'redirect', state: 'ok', children: [] };
        node.children.push(child);
        followers.push(follow(child, stack));
      }
    }
    await Promise.all(followers);
  }

  async function follow(child: SpfNode, stack: string[]): Promise<void> {
    if (stack.includes(child.name)) {
      child.state = 'loop';
      return;
    }
    if (input.lookups > WALK_LIMIT || stack.length > 12) {
      child.state = 'not_followed';
      return;
    }
    await load(child, [...stack, child.name]);
  }

  await load(input.root, [domain]);
  return input;
}

function walk(node: SpfNode, visit: (n: SpfNode) => void): void {
  visit(node);
  for (const c of node.children) walk(c, visit);
}

/** The record whose `all` decides: the domain's, or the end of its redirect chain (RFC 7208 6.1). */
function effectiveRecord(root: SpfNode): SpfNode | undefined {
  let node: SpfNode | undefined = root;
  for (let i = 0; node && i < 12; i++) {
    if (node.state !== 'ok' || !node.record) return undefined;
    const hasAll = node.record.mechanisms.some((m) => m.name === 'all');
    if (hasAll || node.record.redirect === undefined) return node;
    node = node.children.find((c) => c.via === 'redirect');
  }
  return undefined;
}

function suggested(input: SpfInput, text?: string): string {
  if (!text) return input.hasMx ? 'v=spf1 mx -all' : 'v=spf1 -all';
  const terms = text.split(' ').filter((t) => t && !/^[+\-~?]?all$/i.test(t));
  return [...terms, '-all'].join(' ');
}

export function evaluateSpf(input: SpfInput): Finding[] {
  const out: Finding[] = [];
  const { root, domain } = input;
  if (root.state === 'failed') return out;
  if (root.state === 'missing') {
    out.push(
      finding(
        'spf.missing',
        domain,
        `${domain} publishes no SPF record: receivers cannot tell which hosts may send its mail.`,
        {},
        {
          fix: { type: 'TXT', name: domain, value: suggested(input) },
        },
      ),
    );
    return out;
  }
  if (root.state === 'multiple') {
    out.push(
      finding(
        'spf.multiple',
        domain,
        `${domain} publishes more than one v=spf1 record: receivers treat that as a permanent error.`,
      ),
    );
    return out;
  }
  walk(root, (n) => {
    if (n.state === 'syntax') {
      out.push(
        finding('spf.syntax', n.name, `The SPF record at ${n.name} does not parse: ${n.error}.`, {
          error: n.error,
          text: n.text,
        }),
      );
    }
    if (n !== root && (n.state === 'missing' || n.state === 'multiple')) {
      out.push(
        finding(
          'spf.include.missing',
          n.name,
          n.state === 'missing'
            ? `The ${n.via} target ${n.name} has no SPF record: evaluation ends in a permanent error.`
            : `The ${n.via} target ${n.name} has more than one SPF record: evaluation ends in a permanent error.`,
          { via: n.via, target: n.name },
        ),
      );
    }
    if (n.state === 'loop') {
      out.push(
        finding(
          'spf.include.loop',
          n.name,
          `The ${n.via} of ${n.name} leads back to a record already being evaluated.`,
          { via: n.via, target: n.name },
        ),
      );
    }
    if (n.record?.mechanisms.some((m) => m.name === 'ptr')) {
      out.push(
        finding(
          'spf.ptr',
          n.name,
          `The SPF record at ${n.name} uses the ptr mechanism, which RFC 7208 5.5 says not to use: it is slow and unreliable.`,
        ),
      );
    }
  });
  if (input.lookups > 10) {
    out.push(
      finding(
        'spf.lookups.too_many',
        domain,
        `Evaluating the SPF record of ${domain} takes ${input.lookups} DNS-querying terms; RFC 7208 allows 10, and receivers answer permerror beyond.`,
        {
          count: input.lookups,
          limit: 10,
        },
      ),
    );
  }
  if (input.voidLookups > 2) {
    out.push(
      finding(
        'spf.void_lookups.too_many',
        domain,
        `${input.voidLookups} terms of the SPF record of ${domain} look up names that do not exist or have no records; RFC 7208 allows 2.`,
        {
          count: input.voidLookups,
          limit: 2,
          terms: input.voidTerms,
        },
      ),
    );
  }
  const eff = effectiveRecord(root);
  if (eff?.record) {
    const all = eff.record.mechanisms.find((m) => m.name === 'all');
    const fix = { type: 'TXT', name: domain, value: suggested(input, eff === root ? root.text : undefined) };
    if (all && all.qualifier === '+') {
      out.push(
        finding(
          'spf.all.pass',
          eff.name,
          `The SPF record of ${domain} ends in "${all.raw}": any host in the world passes SPF for it.`,
          { term: all.raw },
          { fix },
        ),
      );
    } else if (all?.qualifier === '?' || (!all && eff.record.redirect === undefined)) {
      out.push(
        finding(
          'spf.all.neutral',
          eff.name,
          all
            ? `The SPF record of ${domain} ends in "?all": hosts it does not list get a neutral result, as if there were no SPF.`
            : `The SPF record of ${domain} has no "all" term: hosts it does not list get a neutral result.`,
          { term: all?.raw ?? null },
          { fix },
        ),
      );
    }
  }
  return out;
}
