/**
 * SPF (RFC 7208) as a receiver would meet it: the domain's record, then every include and
 * redirect recursively, counting DNS-querying terms (4.6.4: include, a, mx, ptr, exists and
 * redirect, at most 10) and void lookups (at most 2), and noting loops, missing targets, syntax
 * errors, `mx` terms over 10 MX records, the ptr mechanism and what `all` says.
 *
 * `fetchSpf` walks every term of every record (not one sender's path, as check_host() does) with
 * the record selection, limits and term lookups of terms.ts, which check_host() uses too;
 * `evaluateSpf` turns the tree into findings.
 */
import type { DnsClient } from '../../dns/audit-dns.js';
import { finding } from '../../findings.js';
import type { Why } from '../../params.js';
import type { Finding } from '../../types.js';
import { LOOKUP_MECHANISMS, type SpfRecord } from './parse.js';
import { fetchRecord, lookupTerm, MAX_LOOKUPS, MAX_VOID_LOOKUPS, SpfError, SpfLimits } from './terms.js';

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
  /** `error` as a reason code with its params (params.ts). */
  why?: Why;
  children: SpfNode[];
}

/** An `mx` term whose target has more MX records than RFC 7208 4.6.4 allows. */
export interface MxOverLimit {
  record: string;
  term: string;
  target: string;
  error: string;
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
  /** `mx` terms over 10 MX records. */
  mxOverLimit: MxOverLimit[];
  /** Whether the domain has MX records (for the suggested record). */
  hasMx: boolean;
}

/** Beyond this many lookup terms the walk stops following: the verdict is already "too many". */
const WALK_LIMIT = 40;

export async function fetchSpf(dns: DnsClient, domain: string, hasMx: boolean): Promise<SpfInput> {
  // Counting goes on past the limits, so that the report says by how much.
  const limits = new SpfLimits(false);
  const mxOverLimit: MxOverLimit[] = [];
  const root: SpfNode = { name: domain, via: 'domain', state: 'ok', children: [] };

  async function load(node: SpfNode, stack: string[]): Promise<void> {
    const found = await fetchRecord(
      dns,
      node.name,
      limits,
      node.via === 'domain' ? undefined : `${node.via}:${node.name}`,
    );
    if (found.state === 'failed') {
      node.state = 'failed';
      return;
    }
    if (found.state === 'none' || found.state === 'multiple') {
      node.state = found.state === 'none' ? 'missing' : 'multiple';
      return;
    }
    node.text = found.text;
    if (found.state === 'syntax') {
      node.state = 'syntax';
      node.error = found.error;
      node.why = found.why;
      return;
    }
    node.record = found.record;
    const followers: Promise<void>[] = [];
    for (const m of found.record.mechanisms) {
      if (!LOOKUP_MECHANISMS.has(m.name)) continue;
      limits.lookup();
      const target = (m.domainSpec ?? node.name).replace(/\.$/, '').toLowerCase();
      // Macros depend on the message being checked: counted, not followed. ptr's lookups depend
      // on the connecting address: counted, not resolved here.
      if (target.includes('%') || m.name === 'ptr') continue;
      if (m.name === 'include') {
        const child: SpfNode = { name: target, via: 'include', state: 'ok', children: [] };
        node.children.push(child);
        followers.push(follow(child, stack));
        continue;
      }
      // a, mx (the MX records only: their hosts' addresses do not change a verdict), exists.
      followers.push(
        lookupTerm(dns, m, target, [4, 6], limits).then(
          () => undefined,
          (err: unknown) => {
            if (!(err instanceof SpfError)) throw err;
            // A failed lookup is reported by the audit as such, not as a void or missing name.
            if (err.limit === 'mx') mxOverLimit.push({ record: node.name, term: m.raw, target, error: err.message });
          },
        ),
      );
    }
    if (found.record.redirect !== undefined) {
      limits.lookup();
      const target = found.record.redirect.replace(/\.$/, '').toLowerCase();
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
    if (limits.lookups > WALK_LIMIT || stack.length > 12) {
      child.state = 'not_followed';
      return;
    }
    await load(child, [...stack, child.name]);
  }

  await load(root, [domain]);
  return {
    domain,
    root,
    lookups: limits.lookups,
    voidLookups: limits.voids,
    voidTerms: limits.voidTerms,
    mxOverLimit,
    hasMx,
  };
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
          ...n.why,
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
  for (const o of input.mxOverLimit) {
    out.push(
      finding(
        'spf.mx.too_many',
        o.record,
        `The term "${o.term}" in the SPF record at ${o.record} names ${o.target}, which has more than 10 MX records: receivers answer permerror when they evaluate it (RFC 7208 4.6.4).`,
        { term: o.term, target: o.target, limit: 10 },
      ),
    );
  }
  if (input.lookups > MAX_LOOKUPS) {
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
  if (input.voidLookups > MAX_VOID_LOOKUPS) {
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
