/**
 * Whether this machine can open connections to port 25 at all. Many networks (most clouds among
 * them) block outbound port 25: every connection then times out, exactly as it would to a mail
 * server that drops them. A timeout is taken as the server's doing only when the same process
 * has lately seen a port-25 connection to another address of the same family succeed; without that,
 * what could not be checked is not reported as bad (docs/codes.md, `smtp.not_checked`).
 *
 * The witness is the prober's own: a result read from another process (through a ProbeShare)
 * carries the evidence of the process that probed (`PortResult.egressSeenAt`), never this one's,
 * since two machines of one fleet need not share one way out. The audit threads of one process
 * (an AuditPool) share one way out, and tell each other through a BroadcastChannel (`channel`).
 */
import { isIP } from 'node:net';
import { BroadcastChannel } from 'node:worker_threads';
import type { PortResult } from './types.js';

export interface EgressWitnessOptions {
  /** How long a port-25 success is evidence that outbound port 25 works. @default 900000 */
  windowMs?: number;
  /** Addresses remembered (the newest successes). @default 64 */
  maxAddresses?: number;
  /**
   * A BroadcastChannel name shared by the witnesses of every thread of the process: a success seen
   * by one is evidence for all (each address told at most once a minute). @default none
   */
  channel?: string;
}

/** What a witness tells the others on its channel. */
interface Told {
  address: string;
  at: number;
}

/** The channel of the process-wide witness (audit-run.ts): the main thread and every audit thread. */
export const EGRESS_CHANNEL = 'mailaudit:egress:25';

/** How often one address's success is told to the other threads, at most. */
const TELL_EVERY_MS = 60_000;

/** Port-25 connections that succeeded lately, by address; shared by every audit of a process. */
export class EgressWitness {
  readonly windowMs: number;
  private readonly maxAddresses: number;
  /** Address → time of its newest success (ms); insertion order is age order. */
  private readonly seen = new Map<string, number>();
  private readonly channel: BroadcastChannel | undefined;
  /** Address → when it was last told on the channel. */
  private readonly told = new Map<string, number>();

  constructor(o: EgressWitnessOptions = {}) {
    this.windowMs = o.windowMs ?? 900_000;
    this.maxAddresses = o.maxAddresses ?? 64;
    if (o.channel) {
      const channel = new BroadcastChannel(o.channel);
      channel.onmessage = (e) => {
        const t = (e as { data?: Told }).data;
        if (typeof t?.address === 'string' && typeof t.at === 'number' && isIP(t.address)) this.saw(t.address, t.at);
      };
      // The channel alone never keeps a thread or a process alive.
      channel.unref();
      this.channel = channel;
    }
  }

  /** Stops listening to the other threads. */
  close(): void {
    this.channel?.close();
  }

  /** A port-25 connection to `address` succeeded at `at` (ms). */
  saw(address: string, at: number): void {
    if ((this.seen.get(address) ?? Number.NEGATIVE_INFINITY) >= at) return;
    this.seen.delete(address);
    this.seen.set(address, at);
    if (this.seen.size > this.maxAddresses) this.seen.delete(this.seen.keys().next().value as string);
  }

  /**
   * The time (ms) of the newest success to an address other than `address`, of its family, no
   * older than the window at `at`; undefined without one.
   */
  evidence(address: string, at: number): number | undefined {
    const family = isIP(address);
    let best: number | undefined;
    for (const [a, t] of this.seen) {
      if (a === address || isIP(a) !== family || at - t > this.windowMs) continue;
      if (best === undefined || t > best) best = t;
    }
    return best;
  }

  /**
   * What a port-25 probe made here adds: an accepted connection is evidence; a timeout not cut by
   * the audit gets the evidence seen so far (`egressSeenAt`), or none.
   */
  note(r: PortResult, at: number): void {
    if (r.port !== 25 || r.protocol !== 'smtp') return;
    if (r.state === 'open') {
      this.saw(r.address, at);
      this.tell(r.address, at);
    } else if (r.state === 'timeout' && !r.cut) {
      const seen = this.evidence(r.address, at);
      if (seen !== undefined) r.egressSeenAt = new Date(seen).toISOString();
    }
  }

  private tell(address: string, at: number): void {
    if (!this.channel || at - (this.told.get(address) ?? Number.NEGATIVE_INFINITY) < TELL_EVERY_MS) return;
    this.told.set(address, at);
    if (this.told.size > this.maxAddresses) this.told.delete(this.told.keys().next().value as string);
    this.channel.postMessage({ address, at } satisfies Told);
  }
}
