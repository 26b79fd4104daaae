/**
 * The MTA-STS checks as the audit runs them: the `_mta-sts` record with the domain's records, and
 * the policy, fetched over HTTPS with the probes (it opens a connection) and matched against the
 * MX hosts.
 */
import type { Check } from '../../check.js';
import type { DnsAnswer } from '../../dns/resolver.js';
import { type MxInput, mailHosts } from '../mx/index.js';
import { fetchStsPolicy } from './fetch-policy.js';
import { evaluateMtaSts, evaluateStsPolicy, fetchMtaSts, type MtaStsInput } from './index.js';
import { type PolicyFetch, policyMxNames } from './policy.js';

/** Needs the domain's MX answer: a suggested policy lists its hosts. */
export const mtaStsCheck: Check<{ mx: Pick<DnsAnswer<'MX'>, 'records'> }, MtaStsInput> = {
  category: 'mta-sts',
  fetch: (ctx, { mx }) => fetchMtaSts(ctx.dns, ctx.domain, policyMxNames(ctx.domain, mx.records)),
  evaluate: (input, { started }) => evaluateMtaSts(input, started),
  evidence: (input) => ({ mtaSts: { records: input.records, id: input.id ?? null } }),
};

export interface StsPolicyInput {
  record: MtaStsInput;
  /** The hosts the policy must list: the MX targets, or the domain itself for an implicit MX. */
  mxNames: string[];
  /** Undefined when there is no single valid record to fetch a policy for. */
  fetch?: PolicyFetch;
}

/** Longest the policy fetch may take, within the audit's deadline. */
const POLICY_TIMEOUT_MS = 10_000;

export const mtaStsPolicyCheck: Check<{ record: MtaStsInput; mx: MxInput }, StsPolicyInput> = {
  category: 'mta-sts',
  async fetch(ctx, { record, mx }) {
    const mxNames = mx.implicit ? [ctx.domain] : mailHosts(mx).map((h) => h.name);
    if (record.state !== 'found' || record.records.length !== 1) return { record, mxNames };
    const reach = { dns: ctx.dns, allowPrivateTargets: ctx.settings.allowPrivateTargets };
    const timeoutMs = Math.max(1, Math.min(POLICY_TIMEOUT_MS, ctx.net.remaining()));
    return { record, mxNames, fetch: await fetchStsPolicy(ctx.net.http, reach, ctx.domain, timeoutMs) };
  },
  evaluate: ({ record, mxNames, fetch }, { started }) =>
    fetch ? evaluateStsPolicy(record, fetch, mxNames, started) : [],
  evidence: ({ fetch }) =>
    fetch
      ? {
          mtaStsPolicy: {
            url: fetch.url,
            state: fetch.state,
            address: fetch.address ?? null,
            error: fetch.error ?? null,
            body: fetch.body?.slice(0, 2000) ?? null,
          },
        }
      : {},
};
