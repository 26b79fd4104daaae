/**
 * The DNS view of one audit: answers cached for the audit's length (each name and type asked
 * once, however many checks need it), every lookup logged with the category that asked first,
 * and failures kept apart from answers so that "could not look" never reads as "no record".
 */
import type { CategoryId } from '../types.js';
import type { RRType } from './records.js';
import type { DnsAnswer, DnsStatus, QueryOptions } from './resolver.js';

const FAILED_STATUSES: ReadonlySet<DnsStatus> = new Set(['servfail', 'refused', 'timeout', 'error']);

const expired = <T extends RRType>(name: string, type: T): DnsAnswer<T> => ({
  name,
  type,
  status: 'timeout',
  records: [],
  cnames: [],
  ad: false,
  rcode: -1,
  detail: 'the audit reached its deadline',
});

/** What a check needs of DNS: the Resolver, or a stub in unit tests. */
export interface DnsClient {
  query<T extends RRType>(name: string, type: T, opts?: QueryOptions): Promise<DnsAnswer<T>>;
}

export interface LookupRecord {
  name: string;
  type: RRType;
  status: DnsAnswer['status'];
  ad: boolean;
  category: CategoryId;
  cd: boolean;
  detail?: string;
}

export class AuditDns {
  private readonly cache = new Map<string, Promise<DnsAnswer>>();
  readonly log: LookupRecord[] = [];

  /**
   * @param deadline epoch milliseconds after which lookups answer `timeout` at once (the audit's
   *   deadline); undefined for none.
   */
  constructor(
    private readonly client: DnsClient,
    private readonly deadline?: { at: number; now: () => number },
  ) {}

  /**
   * Lookups still waiting, each answered `timeout` if the deadline passes first: one timer for
   * the whole audit (started by its first lookup), not one per lookup.
   */
  private readonly waiting = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  private ask<T extends RRType>(name: string, type: T, opts: QueryOptions): Promise<DnsAnswer<T>> {
    if (!this.deadline) return this.client.query(name, type, opts);
    const left = this.deadline.at - this.deadline.now();
    if (left <= 0) return Promise.resolve(expired(name, type));
    this.timer ??= setTimeout(() => this.expire(), left);
    return new Promise<DnsAnswer<T>>((resolve, reject) => {
      const onDeadline = () => resolve(expired(name, type));
      this.waiting.add(onDeadline);
      this.client.query(name, type, opts).then(
        (answer) => {
          this.waiting.delete(onDeadline);
          resolve(answer);
        },
        (err: unknown) => {
          this.waiting.delete(onDeadline);
          reject(err);
        },
      );
    });
  }

  /** The deadline passed: lookups still waiting answer `timeout` at once (later ones do too). */
  private expire(): void {
    for (const onDeadline of this.waiting) onDeadline();
    this.waiting.clear();
  }

  /**
   * The audit is over: its deadline's timer goes (a lookup asked later starts another for what
   * is left). auditDomain and analyzeMessage call it when they end.
   */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A client for one category's check: its lookups are attributed to that category. */
  for(category: CategoryId): DnsClient {
    return {
      query: <T extends RRType>(name: string, type: T, opts: QueryOptions = {}) =>
        this.query(category, name, type, opts),
    };
  }

  query<T extends RRType>(category: CategoryId, name: string, type: T, opts: QueryOptions = {}): Promise<DnsAnswer<T>> {
    const lower = name.toLowerCase();
    const n = lower.endsWith('.') ? lower.slice(0, -1) : lower;
    const key = `${n}\u0000${type}\u0000${opts.cd ? 1 : 0}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.ask(n, type, opts).then((a) => {
        const entry: LookupRecord = { name: n, type, status: a.status, ad: a.ad, category, cd: !!opts.cd };
        if (a.detail) entry.detail = a.detail;
        this.log.push(entry);
        return a;
      });
      this.cache.set(key, p);
    }
    return p as Promise<DnsAnswer<T>>;
  }

  /** Lookups that could not be answered (timeout, SERVFAIL, REFUSED, malformed), first per name and type. */
  failures(): LookupRecord[] {
    return this.log.filter((l) => !l.cd && failed(l));
  }

  get queryCount(): number {
    return this.cache.size;
  }
}

/**
 * Whether a lookup could not be answered (timeout, SERVFAIL, REFUSED, malformed): "could not
 * look", which is never "no record" (STYLE.md 3, mailauth's NO_RECORD_CODES). The one test for it:
 * of an answer, a logged lookup or a bare status.
 */
export function failed(lookup: { status: DnsStatus } | DnsStatus): boolean {
  return FAILED_STATUSES.has(typeof lookup === 'string' ? lookup : lookup.status);
}
