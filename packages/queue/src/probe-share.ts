/**
 * Probe results and the per-address connection limit shared by every worker process (and every
 * audit thread of each) through Redis, so that a hosting provider's mail host is probed once per
 * address, port and server name while a result lives, not once per domain per worker, and never
 * receives more than the limit's connections at once from all the workers together.
 *
 * Keys, under `<prefix>:probe:`:
 * - `r:<probe key>`: the stored probe (JSON, no secrets: engine probes/stored.ts), with its TTL;
 * - `r:<probe key>:claim`: the single-flight claim of the caller that probes; the others poll for
 *   the result. It lives `lockMs` and is renewed while the probe runs: a killed holder's claim
 *   expires and the next caller takes over;
 * - `slots:<address>`: a sorted set of the connection slots taken at the address, each scored with
 *   its expiry (Redis's own clock), renewed while held: a killed holder's slot expires the same way.
 * When Redis cannot be reached, probes run anyway under the process's own limit, unshared: the
 * cache is an optimisation, never a reason for an audit to fail.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

// The engine's ProbeShare and ConnectionLimiter (engine probes/limits.ts), met structurally: this
// package depends on nothing of ours. What is stored is the engine's JSON, checked by the engine.

/** What a probe run for the share hands it: the value to store and for how long (0: not stored). */
export interface SharedRun {
  stored: unknown;
  ttlMs: number;
}

export interface SharedResult {
  stored: unknown;
  /** Milliseconds it has left to live. */
  ttlMs: number;
  /** The caller's own run made it. */
  ran: boolean;
}

/** This module, for AuditPool's `share.module`: each audit thread builds its own share from it. */
export const PROBE_SHARE_MODULE = import.meta.url;

export interface RedisProbeShareOptions {
  /** Key prefix (REDIS_PREFIX). @default 'mailaudit' */
  prefix?: string;
  /** Lifetime of a claim on a probe or a connection slot without renewal. @default 15000 */
  lockMs?: number;
  /** Connections at once per target address, for every process of the share together. @default 4 */
  perAddress?: number;
}

/** What AuditPool's threads call (`share.options`): their own connection to `url`. */
export interface ProbeShareThreadOptions extends RedisProbeShareOptions {
  url: string;
}

// Read the result, or claim the probe: {1, value, pttl} | {2} claimed | {0} someone else probes.
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then return {1, v, redis.call('PTTL', KEYS[1])} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {0}`;
// Store the result (unless its TTL is 0) and give up the claim if it is still ours.
const PUT = `
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// A connection slot: expired slots dropped, one taken if fewer than ARGV[1] are; 1 or 0.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;
const HOLD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

type Scripts = {
  probeClaim(result: string, claim: string, token: string, lockMs: number): Promise<[number, string?, number?]>;
  probePut(result: string, claim: string, token: string, value: string, ttlMs: number): Promise<number>;
  probeRenew(claim: string, token: string, lockMs: number): Promise<number>;
  probeRelease(claim: string, token: string): Promise<number>;
  slotAcquire(slots: string, limit: number, leaseMs: number, member: string): Promise<number>;
  slotHold(slots: string, leaseMs: number, member: string): Promise<number>;
};

function scripts(redis: Redis): Scripts {
  const r = redis as Redis & Partial<Scripts>;
  if (!r.probeClaim) {
    redis.defineCommand('probeClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('probePut', { numberOfKeys: 2, lua: PUT });
    redis.defineCommand('probeRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('probeRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('slotAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('slotHold', { numberOfKeys: 1, lua: HOLD });
  }
  return r as Redis & Scripts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const firstReady = new WeakMap<Redis, Promise<void>>();
/**
 * Resolves once the connection has been ready, or after `ms`: a connection made without an offline
 * queue fails every command until it is ready, which would make the first probes of a process that
 * just started (an audit thread, a worker at the start of a night) run unshared. Only the first
 * connection is waited for; later, while Redis is away, commands fail at once and probes run unshared.
 */
function connected(redis: Redis, ms = 2000): Promise<void> {
  let p = firstReady.get(redis);
  if (!p) {
    p =
      redis.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              redis.off('ready', done);
              resolve();
            };
            const timer = setTimeout(done, ms);
            timer.unref();
            redis.once('ready', done);
          });
    firstReady.set(redis, p);
  }
  return p;
}
/** Polling while another caller holds what we wait for: quick at first, then every 100 ms. */
const nextDelay = (ms: number) => Math.min(ms * 2, 100);

/** Probe results shared through Redis, one caller probing at a time per key (see the module's comment). */
export class RedisProbeShare {
  private readonly s: Scripts;
  private readonly prefix: string;
  private readonly lockMs: number;

  constructor(
    private readonly redis: Redis,
    opts: RedisProbeShareOptions = {},
  ) {
    this.s = scripts(redis);
    this.prefix = `${opts.prefix ?? 'mailaudit'}:probe:r:`;
    this.lockMs = opts.lockMs ?? 15_000;
  }

  async get(key: string, run: () => Promise<SharedRun>, waitMs: number): Promise<SharedResult | undefined> {
    const result = this.prefix + key;
    const claim = `${result}:claim`;
    const token = randomBytes(9).toString('base64url');
    const until = Date.now() + waitMs;
    let delay = 5;
    await connected(this.redis);
    for (;;) {
      let got: [number, string?, number?];
      try {
        got = await this.s.probeClaim(result, claim, token, this.lockMs);
      } catch {
        // Redis away: probe here, unshared.
        return { ...(await run()), ran: true };
      }
      if (got[0] === 1) {
        const stored = parse(got[1]);
        if (stored !== undefined) return { stored, ttlMs: Math.max(0, got[2] ?? 0), ran: false };
        // Not JSON: probe here and replace it.
        const out = await run();
        await this.s.probePut(result, claim, token, JSON.stringify(out.stored), out.ttlMs).catch(() => {});
        return { ...out, ran: true };
      }
      if (got[0] === 2) return this.probe(result, claim, token, run);
      if (Date.now() + delay > until) return undefined;
      await sleep(delay);
      delay = nextDelay(delay);
    }
  }

  /** Probes under our claim, renewing it until the result is stored. */
  private async probe(
    result: string,
    claim: string,
    token: string,
    run: () => Promise<SharedRun>,
  ): Promise<SharedResult> {
    const renew = setInterval(
      () => void this.s.probeRenew(claim, token, this.lockMs).catch(() => {}),
      Math.max(100, Math.floor(this.lockMs / 3)),
    );
    renew.unref();
    let out: SharedRun;
    try {
      out = await run();
    } catch (err) {
      clearInterval(renew);
      await this.s.probeRelease(claim, token).catch(() => {});
      throw err;
    }
    clearInterval(renew);
    // Stored for the others (or, with a TTL of 0, only the claim given up so that the next caller probes).
    await this.s.probePut(result, claim, token, JSON.stringify(out.stored), out.ttlMs).catch(() => {});
    return { ...out, ran: true };
  }
}

function parse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The per-address connection limit for every process of the share: a Redis semaphore per address
 * whose slots expire unless renewed (a killed holder's slot is free again after `lockMs`).
 */
export class RedisConnectionLimiter {
  private readonly s: Scripts;
  private readonly prefix: string;
  private readonly leaseMs: number;
  readonly perAddress: number;
  private readonly holder = randomBytes(6).toString('base64url');
  private next = 0;

  constructor(
    private readonly redis: Redis,
    opts: RedisProbeShareOptions = {},
  ) {
    this.s = scripts(redis);
    this.prefix = `${opts.prefix ?? 'mailaudit'}:probe:slots:`;
    this.leaseMs = opts.lockMs ?? 15_000;
    this.perAddress = opts.perAddress ?? 4;
  }

  async run<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const slots = this.prefix + address;
    const member = `${this.holder}:${this.next++}`;
    let delay = 5;
    await connected(this.redis);
    for (;;) {
      let took: number;
      try {
        took = await this.s.slotAcquire(slots, this.perAddress, this.leaseMs, member);
      } catch {
        // Redis away: the process's own limit only.
        return fn();
      }
      if (took === 1) break;
      await sleep(delay);
      delay = nextDelay(delay);
    }
    const renew = setInterval(
      () => void this.s.slotHold(slots, this.leaseMs, member).catch(() => {}),
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.zrem(slots, member).catch(() => {});
    }
  }
}

/** Both halves on one connection (the worker's main thread uses its own). */
export function redisProbeShare(
  redis: Redis,
  opts: RedisProbeShareOptions = {},
): { share: RedisProbeShare; limiter: RedisConnectionLimiter } {
  return { share: new RedisProbeShare(redis, opts), limiter: new RedisConnectionLimiter(redis, opts) };
}

/** AuditPool's entry (engine ProbeShareFactory): a thread's own connection and both halves on it. */
export function createProbeShare(options: unknown): {
  share: RedisProbeShare;
  limiter: RedisConnectionLimiter;
  close(): Promise<void>;
} {
  const o = options as ProbeShareThreadOptions;
  // As the producers' connection (index.ts), without loading BullMQ into every audit thread:
  // commands fail at once while Redis is away, and the probes then run unshared.
  const redis = new Redis(o.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on('error', () => {});
  return {
    ...redisProbeShare(redis, o),
    async close() {
      redis.disconnect();
    },
  };
}
