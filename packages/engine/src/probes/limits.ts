/**
 * Limits shared by every audit of a process (and, through a ProbeShare and a shared
 * ConnectionLimiter, by every worker process): connections per target address, and probe results
 * reused for a while.
 */
import type { TrustStore } from '../net/trust.js';
import { isStoredProbe, loadProbe, type ProbeStanding, probeKey, probeStanding, storeProbe } from './stored.js';
import type { PortProbe, PortTarget, ProbeEnv } from './types.js';

/** Bounds the connections open at once to one target address. */
export interface ConnectionLimiter {
  run<T>(address: string, fn: () => Promise<T>): Promise<T>;
}

/** Bounds connections per target address across every audit of the process. */
export class AddressLimiter implements ConnectionLimiter {
  private readonly active = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();
  constructor(readonly perAddress = 4) {}

  async run<T>(address: string, fn: () => Promise<T>): Promise<T> {
    if ((this.active.get(address) ?? 0) >= this.perAddress) {
      await new Promise<void>((resolve) => this.queues.set(address, [...(this.queues.get(address) ?? []), resolve]));
    } else this.active.set(address, (this.active.get(address) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const next = this.queues.get(address)?.shift();
      if (next) next();
      else {
        const left = (this.active.get(address) ?? 1) - 1;
        if (left > 0) this.active.set(address, left);
        else {
          this.active.delete(address);
          this.queues.delete(address);
        }
      }
    }
  }
}

/** Two limits in turn: the process's own, then one shared with other processes. */
export function bothLimits(first: ConnectionLimiter, then: ConnectionLimiter): ConnectionLimiter {
  return { run: (address, fn) => first.run(address, () => then.run(address, fn)) };
}

/**
 * What a probe run for a ProbeShare hands it: the result to store (a StoredProbe, JSON) and for
 * how long (0: not stored).
 */
export interface SharedRun {
  stored: unknown;
  ttlMs: number;
}

/**
 * Probe results shared between processes (services use Redis: @mailaudit/queue's RedisProbeShare,
 * a JSON store that knows nothing of probes). `get` answers
 * the stored result under `key` while it lives, or runs `run` for it: one caller at a time across
 * every process of the share, the others waiting for its result (a caller that dies lets another
 * take over once its claim expires).
 */
export interface ProbeShare {
  /**
   * @param waitMs how long the caller may wait while another probes; after that: `undefined`.
   * @returns the stored probe and the milliseconds it has left to live; `ran` when `run` ran here.
   */
  get(
    key: string,
    run: () => Promise<SharedRun>,
    waitMs: number,
  ): Promise<{ stored: unknown; ttlMs: number; ran: boolean } | undefined>;
}

export interface ProbeCacheOptions {
  /** How long a result the server's behaviour made is reused. @default 300000 */
  ttlMs?: number;
  /**
   * How long a result that saw nothing (a timeout, a network error) is reused: short, so that a
   * failure on the auditing side does not become a finding of every domain on a host; 0: shared
   * only with the audits that waited for that very probe. @default 5000
   */
  unknownTtlMs?: number;
  /** @default 10000 */
  maxEntries?: number;
  /** The results of other processes, and where this one's go; without it, this process's only. */
  share?: ProbeShare;
}

interface Entry {
  /** Infinity while the probe runs. */
  expires: number;
  /** Undefined when the probe's result was its audit's alone (cut by its deadline). */
  probe: Promise<PortProbe | undefined>;
}

/** A probe as fetched: the result, how long it may be reused, whether it was its audit's alone. */
interface Fetched {
  probe: PortProbe;
  ttlMs: number;
  audit: boolean;
}

const trustIds = new WeakMap<TrustStore, number>();
let nextTrustId = 1;
function trustId(t: TrustStore): number {
  let id = trustIds.get(t);
  if (id === undefined) {
    id = nextTrustId++;
    trustIds.set(t, id);
  }
  return id;
}

/**
 * Probe results shared between audits of one process for a while, and with other processes
 * through a ProbeShare: a hosting provider's domains mostly share a few mail hosts, and probing
 * the same address, port and server name once per domain would cost them (and us) for nothing.
 * Concurrent audits share an in-flight probe too. Results are kept here as judged with the
 * asking audit's trust anchors (one entry per trust store).
 */
export class ProbeCache {
  readonly ttlMs: number;
  readonly unknownTtlMs: number;
  readonly maxEntries: number;
  private readonly share: ProbeShare | undefined;
  private readonly entries = new Map<string, Entry>();
  /** Probes run here, results read from the share, results reused from this process. */
  readonly stats = { probed: 0, shared: 0, reused: 0 };

  constructor(o: ProbeCacheOptions = {}) {
    this.ttlMs = o.ttlMs ?? 300_000;
    this.unknownTtlMs = o.unknownTtlMs ?? 5000;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.share = o.share;
  }

  /** How long a result of this standing is reused. */
  ttlOf(standing: ProbeStanding): number {
    return standing === 'seen' ? this.ttlMs : standing === 'unknown' ? this.unknownTtlMs : 0;
  }

  /**
   * The probe of `t`: reused, joined while under way, read from the share, or run by `run` (with
   * an environment that tells whether the audit's deadline cut it short).
   */
  async get(t: PortTarget, env: ProbeEnv, run: (env: ProbeEnv) => Promise<PortProbe>): Promise<PortProbe> {
    const key = probeKey(t, env);
    const local = `${trustId(env.trust)}|${key}`;
    // A probe we waited for that was cut by its own audit's deadline is no answer: join the one
    // another waiter started since, if any, else run ours (at most a few rounds).
    for (let round = 0; round < 3; round++) {
      const hit = this.entries.get(local);
      if (!hit || env.now().getTime() >= hit.expires) break;
      const p = await hit.probe;
      if (p) {
        this.stats.reused++;
        return p;
      }
    }
    const flight = this.fetch(key, t, env, run);
    const entry: Entry = {
      expires: Number.POSITIVE_INFINITY,
      probe: flight.then((f) => (f.audit ? undefined : f.probe)),
    };
    entry.probe.catch(() => {});
    this.evict(env.now().getTime());
    this.entries.set(local, entry);
    try {
      const f = await flight;
      if (f.ttlMs > 0) entry.expires = env.now().getTime() + f.ttlMs;
      else if (this.entries.get(local) === entry) this.entries.delete(local);
      return f.probe;
    } catch (err) {
      if (this.entries.get(local) === entry) this.entries.delete(local);
      throw err;
    }
  }

  private async fetch(
    key: string,
    t: PortTarget,
    env: ProbeEnv,
    run: (env: ProbeEnv) => Promise<PortProbe>,
  ): Promise<Fetched> {
    let mine: Fetched | undefined;
    const probe = async (): Promise<Fetched> => {
      let cut = false;
      const p = await run({
        ...env,
        onDeadline: () => {
          cut = true;
          env.onDeadline?.();
        },
      });
      this.stats.probed++;
      const standing = probeStanding(p.result, cut);
      mine = { probe: p, ttlMs: this.ttlOf(standing), audit: standing === 'audit' };
      return mine;
    };
    if (!this.share) return probe();
    const got = await this.share.get(
      key,
      async () => {
        const r = await probe();
        return { stored: storeProbe(r.probe), ttlMs: r.ttlMs };
      },
      env.remaining(),
    );
    if (!got) {
      // Another process still probes and this audit has no time left to wait.
      return {
        probe: {
          result: { ...t, state: 'skipped', error: 'the audit reached its deadline', cut: 'wait' },
          served: [],
        },
        ttlMs: 0,
        audit: true,
      };
    }
    if (got.ran && mine) return mine;
    // Stored by a version that stores otherwise (its key would say so; this is a guard): probe here.
    if (!isStoredProbe(got.stored)) return probe();
    this.stats.shared++;
    return { probe: loadProbe(got.stored, t, env.trust, env.now()), ttlMs: got.ttlMs, audit: false };
  }

  private evict(now: number): void {
    if (this.entries.size < this.maxEntries) return;
    for (const [k, v] of this.entries) if (now >= v.expires) this.entries.delete(k);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
