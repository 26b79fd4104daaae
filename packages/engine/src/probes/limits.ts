/**
 * Limits shared by every audit of a process: connections per target address, and probe results
 * reused for a while.
 */
import type { PortProbe, PortTarget } from './types.js';

/** Bounds connections per target address across every audit of the process. */
export class AddressLimiter {
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
      else this.active.set(address, (this.active.get(address) ?? 1) - 1);
    }
  }
}

/**
 * Probe results shared between audits of one process for a while: a hosting provider's domains
 * mostly share a few mail hosts, and probing the same address, port and server name once per
 * domain would cost them (and us) for nothing. Concurrent audits share an in-flight probe too.
 */
export class ProbeCache {
  private readonly entries = new Map<string, { at: number; result: Promise<PortProbe> }>();
  constructor(
    readonly ttlMs = 300_000,
    readonly maxEntries = 10_000,
  ) {}

  get(t: PortTarget, now: number, run: () => Promise<PortProbe>): Promise<PortProbe> {
    const key = `${t.address}|${t.port}|${t.host}`;
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.result;
    if (this.entries.size >= this.maxEntries) {
      for (const [k, v] of this.entries) if (now - v.at >= this.ttlMs) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    const result = run();
    this.entries.set(key, { at: now, result });
    return result;
  }
}
