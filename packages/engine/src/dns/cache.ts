/**
 * Answers shared by every audit of a process (or of a worker thread): a hosting provider's domains
 * share mail hosts, SPF includes, DMARC report domains and blocklist answers, which are then asked
 * once. Identical questions in flight are asked once too. Answers are kept for their TTL (RFC 1035
 * 3.2.1; negative ones for the SOA's negative TTL, RFC 2308 5), less one second so that an answer
 * never outlives the copy in the recursive resolver's cache it came from; a failure ("could not
 * look") is never kept once it has been handed to the questions waiting for it.
 *
 * Bounded in entries, least recently used first: a night asks most of a domain's own names once
 * (its MX, SPF, DMARC, DKIM… records), while the names its hoster's domains share (mail hosts,
 * their addresses, PTRs and blocklist answers, SPF includes) are asked again and again. Keeping
 * every answer for its TTL made the cache the largest thing a worker held at the end of a night
 * (about 600 bytes an answer, up to 100,000 of them); an LRU of a few thousand keeps the shared
 * names hot and lets the one-off names go soon after their audit, which has its own copy
 * (audit-dns.ts) for as long as it runs.
 */
import type { DnsClient } from './audit-dns.js';
import type { RRType } from './records.js';
import type { DnsAnswer, QueryOptions } from './resolver.js';

/** Entries a DnsCache keeps at most unless told otherwise. */
export const DNS_CACHE_MAX_ENTRIES = 10_000;

export interface DnsCacheOptions {
  /** Entries kept at most (questions in flight included); the least recently used go first. @default 10000 */
  maxEntries?: number;
  /** Longest an answer is kept, whatever its TTL, in seconds. @default 3600 */
  maxTtlSeconds?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

export interface DnsCacheStats {
  /** Questions asked of the cache. */
  lookups: number;
  /** Answered from a kept answer. */
  hits: number;
  /** Joined a question already in flight. */
  joined: number;
  /** Sent on to the resolver. */
  misses: number;
}

interface Entry {
  answer: Promise<DnsAnswer>;
  /** Epoch ms after which the entry is stale; Infinity while in flight. */
  expires: number;
}

export class DnsCache implements DnsClient {
  readonly stats: DnsCacheStats = { lookups: 0, hits: 0, joined: 0, misses: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DnsClient,
    opts: DnsCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? DNS_CACHE_MAX_ENTRIES);
    this.maxTtlMs = (opts.maxTtlSeconds ?? 3600) * 1000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  query<T extends RRType>(name: string, type: T, opts: QueryOptions = {}): Promise<DnsAnswer<T>> {
    this.stats.lookups++;
    const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
    const key = opts.cd ? `${n} ${type} cd` : `${n} ${type}`;
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expires === Number.POSITIVE_INFINITY) {
        this.stats.joined++;
        this.touch(key, hit);
        return hit.answer as Promise<DnsAnswer<T>>;
      }
      if (hit.expires > this.now()) {
        this.stats.hits++;
        this.touch(key, hit);
        return hit.answer as Promise<DnsAnswer<T>>;
      }
      this.entries.delete(key);
    }
    this.stats.misses++;
    const entry: Entry = { answer: this.client.query(n, type, opts), expires: Number.POSITIVE_INFINITY };
    this.evict();
    this.entries.set(key, entry);
    entry.answer.then(
      (a) => {
        // Kept only when it is an answer with a TTL; a failure goes with its last waiter.
        const ttlMs = a.ttl === undefined ? 0 : Math.min((a.ttl - 1) * 1000, this.maxTtlMs);
        if (ttlMs > 0 && (a.status === 'ok' || a.status === 'nodata' || a.status === 'nxdomain')) {
          entry.expires = this.now() + ttlMs;
        } else if (this.entries.get(key) === entry) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.answer as Promise<DnsAnswer<T>>;
  }

  /** Marks an entry as the most recently used: a Map iterates in insertion order, so it goes last. */
  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /**
   * Makes room for one entry: drops the least recently used ones until there is, and a stale one
   * found first on the way even when there is (so that an idle cache empties as it is used).
   * Questions in flight stay: their waiters hold them anyway.
   */
  private evict(): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (e.expires === Number.POSITIVE_INFINITY) {
        // In flight: skipped, unless nothing but questions in flight fills the cache.
        if (this.entries.size < this.maxEntries) return;
        continue;
      }
      if (e.expires <= now || this.entries.size >= this.maxEntries) this.entries.delete(k);
      else return;
    }
  }
}
