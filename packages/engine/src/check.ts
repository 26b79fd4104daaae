/**
 * The shape of one check as an audit runs it: `fetch` does the I/O through the context, `evaluate`
 * turns what was fetched into findings without any (STYLE.md 1 and 2), and `evidence` says what of
 * the fetched input the report keeps. audit.ts runs the checks in the order of their needs.
 */
import type { DnsClient } from './dns/audit-dns.js';
import type { Connector } from './net/connect.js';
import type { HttpClient } from './net/http.js';
import type { TrustStore } from './net/trust.js';
import type { EgressWitness } from './probes/egress.js';
import type { ConnectionLimiter, ProbeCache } from './probes/limits.js';
import type { CategoryId, Finding } from './types.js';

/** The audit's options with their defaults filled in. */
export interface AuditSettings {
  dkimSelectors: string[];
  ipBlocklists: string[];
  domainBlocklists: string[];
  allowPrivateTargets: boolean;
  probes: boolean;
  extraHosts: string[];
}

/** What opens connections, for the checks that do (transport, the MTA-STS policy). */
export interface NetContext {
  connector: Connector;
  http: HttpClient;
  trust: TrustStore;
  limiter: ConnectionLimiter;
  /** Undefined: no probe results shared with other audits. */
  probeCache: ProbeCache | undefined;
  /** Port-25 successes of the process: whether a timeout on port 25 may be the server's. */
  egress: EgressWitness;
  ehloName: string;
  /** Milliseconds left before the audit's deadline. */
  remaining: () => number;
}

/** What a check's fetch may use. */
export interface CheckContext {
  domain: string;
  settings: AuditSettings;
  /** DNS whose lookups count against the check's category (a failed one makes it `error`). */
  dns: DnsClient;
  /** The clock; the only source of "now". */
  now: () => Date;
  net: NetContext;
}

/** What a check's evaluate may know besides its input: when the audit started. */
export interface EvaluateContext {
  started: Date;
}

/** A category's condition as a check's input decides it; `error` from failed lookups is added by the audit. */
export type CheckCondition = 'skipped' | 'error';

/**
 * One check. `Needs` is what it takes from checks before it (the MX answer, the mail hosts…);
 * `Input` is what its fetch found.
 */
export interface Check<Needs, Input> {
  /** The category its lookups are attributed to. */
  category: CategoryId;
  fetch(ctx: CheckContext, needs: Needs): Promise<Input>;
  evaluate(input: Input, ctx: EvaluateContext): Finding[];
  /** The report's evidence entries of this check (keys of `report.evidence`), from its input alone. */
  evidence(input: Input): Record<string, unknown>;
  /** A condition for the category other than `checked`, when the input calls for one. */
  condition?(input: Input): CheckCondition | undefined;
}
