/**
 * The control query: whether the resolvers the audits ask are working at all. When an audit's
 * lookups fail, the question is whose fault it is: the domain's nameservers (a finding for the
 * domain) or the auditing side (no verdict: the audit is inconclusive). A question that any
 * working recursive resolver answers, whatever domain is audited, tells them apart: the root
 * zone's NS set (RFC 8109 section 3, the priming query every resolver makes anyway).
 *
 * Each resolver is asked on its own, once, and the answer kept briefly (`ttlMs`), so that a
 * night of audits that all fail costs one control query per resolver, not one per audit.
 */
import { failed } from './audit-dns.js';
import { Resolver } from './resolver.js';

/** What the control query found. */
export interface ControlResult {
  /** Some resolver answered: lookups that failed failed because of the domain. */
  ok: boolean;
  /** The resolvers asked, as configured. */
  servers: string[];
  /** The resolvers that did not answer (timeout, SERVFAIL, REFUSED, malformed), as configured. */
  failing: string[];
  /** When the answer was obtained (epoch milliseconds of the clock given). */
  checkedAt: number;
}

/** Asks the control query; the engine calls it only when some lookup of an audit failed. */
export type ControlCheck = () => Promise<ControlResult>;

export interface ResolverHealthOptions {
  /** How long an answer is kept. @default 30000 */
  ttlMs?: number;
  /** Per attempt of the control query. @default 2000 */
  timeoutMs?: number;
  /** Attempts per resolver. @default 2 */
  attempts?: number;
  /** The clock (epoch milliseconds). */
  now: () => number;
}

/** The control query over a set of resolvers, each asked on its own, answers cached for `ttlMs`. */
export class ResolverHealth {
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private cached: ControlResult | undefined;
  private inFlight: Promise<ControlResult> | undefined;

  constructor(
    readonly servers: string[],
    private readonly opts: ResolverHealthOptions,
  ) {
    if (servers.length === 0) throw new Error('no resolver given');
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.attempts = opts.attempts ?? 2;
  }

  /** The last answer, fresh or not; undefined before the first check. */
  get last(): ControlResult | undefined {
    return this.cached;
  }

  /** The cached answer while it is fresh, else a new control query (one at a time). */
  check: ControlCheck = () => {
    const now = this.opts.now();
    if (this.cached && now - this.cached.checkedAt < this.ttlMs) return Promise.resolve(this.cached);
    this.inFlight ??= this.ask().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  };

  /** Asks every resolver now, whatever is cached. */
  async ask(): Promise<ControlResult> {
    const answers = await Promise.all(
      this.servers.map(async (server) => {
        const one = new Resolver({ servers: [server], timeoutMs: this.timeoutMs, attempts: this.attempts, sockets: 1 });
        try {
          return !failed(await one.query('.', 'NS'));
        } finally {
          one.close();
        }
      }),
    );
    const failing = this.servers.filter((_, i) => !answers[i]);
    this.cached = {
      ok: failing.length < this.servers.length,
      servers: [...this.servers],
      failing,
      checkedAt: this.opts.now(),
    };
    return this.cached;
  }
}
