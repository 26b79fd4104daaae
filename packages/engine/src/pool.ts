/**
 * Audits on worker threads, one per core by default: an audit's cost is CPU in the engine (the
 * DNS codec, the checks, the report), so one event loop keeps one core busy and no more. Each
 * thread has its own resolver sockets, its own shared DNS answer cache and probe cache (answers do
 * not cross threads: a round trip between threads costs about what a cached answer saves), and a
 * share of the per-address connection limit and of the DNS queries on the wire at once, so that the
 * process as a whole stays within both (two threads with 256 queries each in flight overflowed the
 * resolver's socket buffer on a busy machine: dropped queries, 2 s timeouts, threads slower than one).
 * With `share`, probe results and the connection limit are shared with every process instead,
 * through a store each thread reaches on its own (Redis for the services).
 * The pool hands out work to the thread with the fewest audits in flight. Messages between the
 * threads go in batches, one a turn of the event loop each way (the tasks handed to a thread in one
 * turn, the reports a thread finished in one), not one message an audit: each message costs a
 * serialization and may wake the other side's event loop.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuditOptions } from './audit-run.js';
import type { DnsCacheStats } from './dns/cache.js';
import type { DnsTransport, ResolverStats } from './dns/resolver.js';
import type { ConnectionLimiter, ProbeCache, ProbeShare } from './probes/limits.js';
import type { Report } from './types.js';

export interface AuditPoolOptions {
  /** Recursive resolvers, as `ip[:port]`. */
  servers: string[];
  /** Threads. @default os.availableParallelism() */
  threads?: number;
  /** Extra trust anchors (PEM file) beside the system's, for probes and HTTPS fetches. */
  caFile?: string;
  /** Connections at once per target address, for the whole pool (each thread gets its share, at least one). @default 4 */
  perAddress?: number;
  /** DNS queries on the wire at once for the whole pool (each thread gets its share). @default 256 */
  maxInFlight?: number;
  /** Name given in EHLO. @default 'mailaudit.invalid' */
  ehloName?: string;
  /** DNS answers each thread keeps at most (DnsCacheOptions `maxEntries`). @default 10000 */
  dnsCacheEntries?: number;
  /**
   * How each thread's resolver sends its queries (ResolverOptions `transport`): 'tcp' pipelines
   * them over a few TCP connections a thread and server. @default 'udp'
   */
  dnsTransport?: DnsTransport;
  /**
   * V8's young generation of each thread, in MB (Worker `resourceLimits.maxYoungGenerationSizeMb`);
   * 0: V8's own. Node 24 lets a busy thread's new space grow to 128 MB, most of it garbage between
   * scavenges but resident all the same; 48 (semi-spaces of 16 MB) bounds it
   * (docs/performance.md, memory). @default 48
   */
  youngGenerationMb?: number;
  /**
   * Ask the control query of the resolvers when a lookup fails (dns/control.ts), each thread
   * keeping its answer `controlTtlMs`: an audit whose resolvers fail it is inconclusive. @default false
   */
  control?: boolean;
  /** @default 30000 */
  controlTtlMs?: number;
  /** Probe results kept (ProbeCacheOptions: `ttlMs`, `unknownTtlMs`). @default the ProbeCache's defaults */
  probeCache?: { ttlMs?: number; unknownTtlMs?: number };
  /**
   * Probe results and the connection limit shared with other processes: each thread imports
   * `module` and calls its `createProbeShare(options)` (a {@link ProbeShareFactory}), so that the
   * engine needs no client of the store itself (services pass @mailaudit/queue's Redis one). The
   * limit is then `perAddress` for every process of the share together, not split between threads.
   */
  share?: { module: string; options: unknown };
}

/** What a module named in `AuditPoolOptions.share` exports as `createProbeShare`. */
export type ProbeShareFactory = (options: unknown) => {
  share: ProbeShare;
  limiter: ConnectionLimiter;
  close(): Promise<void>;
};

/** What a thread is started with (worker data). */
export interface ThreadSetup {
  servers: string[];
  caFile?: string;
  perAddress: number;
  /** This thread's share of the pool's DNS queries in flight. */
  maxInFlight: number;
  ehloName?: string;
  dnsCacheEntries?: number;
  dnsTransport?: DnsTransport;
  control?: boolean;
  controlTtlMs?: number;
  probeCache?: { ttlMs?: number; unknownTtlMs?: number };
  share?: { module: string; options: unknown };
}

/**
 * A task for a thread: one audit, or a question for its counters. A message is an array of them
 * (the options object shared by a batch's audits is cloned once: structured clone keeps identity).
 */
export type ThreadTask = { id: number; domain: string; options: AuditOptions } | { id: number; stats: true };

/** What a thread has counted since it started. */
export interface ThreadStats {
  resolver: ResolverStats;
  cache: DnsCacheStats;
  /** Probes run by the thread, results read from the share, results reused in the thread. */
  probes: ProbeCache['stats'];
}

/** A thread's answer: the report as JSON text, why the audit threw, or its counters (a message is an array of them). */
export type ThreadResult =
  | { id: number; json: string }
  | { id: number; error: string; name: string }
  | { id: number; stats: ThreadStats };

/** An error an audit threw inside a thread, with the name of its class (InvalidDomainError…). */
export class PoolAuditError extends Error {
  constructor(
    message: string,
    readonly errorName: string,
  ) {
    super(message);
  }
}

interface Thread {
  worker: Worker;
  inFlight: number;
  failed?: Error;
  /** Tasks handed to the thread this turn of the event loop, posted together at its end. */
  outbox: ThreadTask[];
}

interface Waiting {
  resolve: (value: string | ThreadStats) => void;
  reject: (err: Error) => void;
  thread: Thread;
}

/** The module a thread runs: beside this one, as TypeScript when run from the sources. */
function threadModule(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./pool-thread${ext}`, import.meta.url);
}

export class AuditPool {
  readonly size: number;
  private readonly threads: Thread[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private readonly setup: ThreadSetup;
  private readonly youngGenerationMb: number;

  constructor(opts: AuditPoolOptions) {
    this.size = Math.max(1, opts.threads ?? availableParallelism());
    // Split between the threads, unless a shared limiter holds the whole process (and others) to it.
    const perAddress = opts.share
      ? (opts.perAddress ?? 4)
      : Math.max(1, Math.floor((opts.perAddress ?? 4) / this.size));
    const maxInFlight = Math.max(16, Math.ceil((opts.maxInFlight ?? 256) / this.size));
    this.setup = { servers: opts.servers, perAddress, maxInFlight };
    if (opts.probeCache) this.setup.probeCache = opts.probeCache;
    if (opts.share) this.setup.share = opts.share;
    if (opts.caFile) this.setup.caFile = opts.caFile;
    if (opts.ehloName) this.setup.ehloName = opts.ehloName;
    if (opts.control) this.setup.control = true;
    if (opts.controlTtlMs !== undefined) this.setup.controlTtlMs = opts.controlTtlMs;
    if (opts.dnsCacheEntries !== undefined) this.setup.dnsCacheEntries = opts.dnsCacheEntries;
    if (opts.dnsTransport) this.setup.dnsTransport = opts.dnsTransport;
    this.youngGenerationMb = opts.youngGenerationMb ?? 48;
  }

  /** The threads, started on first use: a process that never audits (or not yet) pays nothing. */
  private start(): void {
    if (this.threads.length > 0) return;
    const setup = this.setup;
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(threadModule(), {
        workerData: setup,
        ...(this.youngGenerationMb > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: this.youngGenerationMb } } : {}),
      });
      const thread: Thread = { worker, inFlight: 0, outbox: [] };
      worker.on('message', (batch: ThreadResult[]) => {
        for (const r of batch) this.settle(thread, r);
      });
      worker.on('error', (err) => this.fail(thread, err));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(thread, new Error(`audit thread exited with code ${code}`));
      });
      worker.unref();
      this.threads.push(thread);
    }
  }

  /** One audit on the least busy thread; resolves with the report as JSON text. */
  auditJson(domain: string, options: AuditOptions): Promise<string> {
    if (this.closed) return Promise.reject(new Error('audit pool closed'));
    this.start();
    let best: Thread | undefined;
    for (const t of this.threads) if (!t.failed && (!best || t.inFlight < best.inFlight)) best = t;
    if (!best) return Promise.reject(this.threads[0]?.failed ?? new Error('no audit thread left'));
    const thread = best;
    const id = this.nextId++;
    thread.inFlight++;
    if (thread.inFlight === 1) thread.worker.ref();
    return new Promise<string>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as Waiting['resolve'], reject, thread });
      this.post(thread, { id, domain, options });
    });
  }

  /** Queues a task for the thread; the turn's tasks go in one message when the turn ends. */
  private post(thread: Thread, task: ThreadTask): void {
    if (thread.outbox.push(task) > 1) return;
    setImmediate(() => {
      const batch = thread.outbox;
      thread.outbox = [];
      if (!thread.failed && !this.closed) thread.worker.postMessage(batch);
    });
  }

  /** The counters of every thread, added up: the queries sent and the cache's work. */
  async stats(): Promise<ThreadStats> {
    if (this.closed) throw new Error('audit pool closed');
    this.start();
    for (const t of this.threads) t.worker.ref();
    const all = await Promise.all(
      this.threads
        .filter((t) => !t.failed)
        .map((thread) => {
          const id = this.nextId++;
          return new Promise<ThreadStats>((resolve, reject) => {
            this.waiting.set(id, { resolve: resolve as Waiting['resolve'], reject, thread });
            this.post(thread, { id, stats: true });
          });
        }),
    ).finally(() => {
      for (const t of this.threads) if (t.inFlight === 0) t.worker.unref();
    });
    const sum = <T extends object>(parts: T[]): T => {
      const out = {} as Record<string, number>;
      for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + (v as number);
      return out as T;
    };
    return {
      resolver: sum(all.map((s) => s.resolver)),
      cache: sum(all.map((s) => s.cache)),
      probes: sum(all.map((s) => s.probes)),
    };
  }

  /** One audit on the least busy thread. */
  async audit(domain: string, options: AuditOptions): Promise<Report> {
    return JSON.parse(await this.auditJson(domain, options)) as Report;
  }

  private settle(thread: Thread, r: ThreadResult): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    if ('stats' in r) {
      w.resolve(r.stats);
      return;
    }
    thread.inFlight--;
    if (thread.inFlight === 0) thread.worker.unref();
    if ('json' in r) w.resolve(r.json);
    else w.reject(new PoolAuditError(r.error, r.name));
  }

  /** A thread that died fails its audits in flight; the others carry on. */
  private fail(thread: Thread, err: Error): void {
    if (thread.failed) return;
    thread.failed = err;
    for (const [id, w] of this.waiting) {
      if (w.thread !== thread) continue;
      this.waiting.delete(id);
      w.reject(err);
    }
    thread.inFlight = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(new Error('audit pool closed'));
    this.waiting.clear();
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
