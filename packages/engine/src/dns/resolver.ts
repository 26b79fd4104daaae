/**
 * A stub resolver built for audits: it asks recursive resolvers with EDNS0 (RFC 6891) and the DO
 * bit, reads the AD bit (RFC 4035 3.2.3), retries over TCP when an answer is truncated
 * (RFC 7766), has per-attempt timeouts and retries across servers, and keeps many queries in
 * flight over a few UDP sockets with random IDs and random source ports (RFC 5452).
 *
 * dns2 does the packet encoding and decoding; its clients are not used because they cannot send
 * EDNS with DO, have no timeout over TCP and open a socket per query.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, connect as tcpConnect } from 'node:net';
import { Packet } from 'dns2';
import { decodeRecords, type RecordOf, type RRType, TYPE_CODES } from './records.js';

/**
 * How a lookup ended. `ok`, `nodata` and `nxdomain` are answers; the others mean "could not look"
 * (ask `failed()` of dns/audit-dns.ts, never the status or the detail text).
 */
export type DnsStatus = 'ok' | 'nodata' | 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'error';

export interface DnsAnswer<T extends RRType = RRType> {
  name: string;
  type: T;
  status: DnsStatus;
  /** Records of the type asked, after any CNAME chain. */
  records: RecordOf<T>[];
  /** Targets of the CNAME chain followed from `name`, in order. */
  cnames: string[];
  /** The resolver validated the answer (or the denial) with DNSSEC. */
  ad: boolean;
  rcode: number;
  /** Why the lookup failed, for people. */
  detail?: string;
}

export interface QueryOptions {
  /** Checking Disabled: ask for data even if validation fails (RFC 4035 3.2.2). */
  cd?: boolean;
}

export interface ResolverOptions {
  /** `ip`, `ip:port` or `[ipv6]:port` of recursive resolvers, tried in turn. */
  servers: string[];
  /** Per attempt. @default 2000 */
  timeoutMs?: number;
  /** Attempts per query, rotating over the servers. @default 3 */
  attempts?: number;
  /** UDP sockets shared by all queries in flight. @default 4 */
  sockets?: number;
  /** Largest TCP answer accepted. @default 65535 */
  maxTcpBytes?: number;
  /**
   * Queries on the wire at once; more wait their turn. Bounds the bursts a resolver (and the
   * socket buffers on both sides) must absorb. @default 256
   */
  maxInFlight?: number;
}

export interface ResolverStats {
  queries: number;
  udpSent: number;
  tcpQueries: number;
  timeouts: number;
  malformed: number;
}

interface Server {
  host: string;
  port: number;
  family: 4 | 6;
}

interface Pending {
  id: number;
  name: string;
  qtype: number;
  server: Server;
  /** The parsed answer, or the decoding error of a malformed one. */
  resolve: (answer: Packet | Error) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class DnsTimeout extends Error {
  readonly code = 'ETIMEOUT';
}

export function parseServer(text: string): Server {
  const t = text.trim();
  let host = t;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    host = bracket[1] as string;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(t) === 0) {
    const i = t.lastIndexOf(':');
    if (i > 0 && isIP(t.slice(0, i)) === 4) {
      host = t.slice(0, i);
      port = Number(t.slice(i + 1));
    }
  }
  const family = isIP(host);
  if (family === 0) throw new Error(`resolver ${JSON.stringify(text)} is not an IP address with an optional port`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`resolver ${JSON.stringify(text)}: bad port`);
  return { host, port, family: family as 4 | 6 };
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

export class Resolver {
  readonly stats: ResolverStats = { queries: 0, udpSent: 0, tcpQueries: 0, timeouts: 0, malformed: 0 };
  private readonly servers: Server[];
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly maxTcpBytes: number;
  private readonly pool: { socket: UdpSocket; family: 4 | 6; pending: Map<number, Pending> }[] = [];
  private readonly poolSize: number;
  private next = 0;
  private closed = false;
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: ResolverOptions) {
    if (opts.servers.length === 0) throw new Error('no resolver given');
    this.servers = opts.servers.map(parseServer);
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.attempts = opts.attempts ?? 3;
    this.poolSize = opts.sockets ?? 4;
    this.maxTcpBytes = opts.maxTcpBytes ?? 65535;
    this.maxInFlight = opts.maxInFlight ?? 256;
  }

  private async slot(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** One question; never throws for DNS trouble: the status says what happened. */
  async query<T extends RRType>(name: string, type: T, opts: QueryOptions = {}): Promise<DnsAnswer<T>> {
    this.stats.queries++;
    await this.slot();
    try {
      return await this.attempt(name, type, opts);
    } finally {
      this.release();
    }
  }

  private async attempt<T extends RRType>(name: string, type: T, opts: QueryOptions): Promise<DnsAnswer<T>> {
    const qname = name.replace(/\.$/, '') || '.';
    // How the last attempt failed: a timeout, or another error (the detail is for people only).
    let last: { status: 'timeout' | 'error'; detail: string } = { status: 'timeout', detail: 'no answer' };
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const server = this.servers[attempt % this.servers.length] as Server;
      try {
        const udpAnswer = await this.udp(server, qname, type, opts);
        if (udpAnswer instanceof Error) throw udpAnswer;
        let packet = udpAnswer;
        if (packet.header.tc) {
          this.stats.tcpQueries++;
          packet = Packet.parse(await this.tcp(server, qname, type, opts));
        }
        return this.interpret(qname, type, packet);
      } catch (err) {
        if (err instanceof DnsTimeout) {
          this.stats.timeouts++;
          last = { status: 'timeout', detail: `no answer from ${server.host} within ${this.timeoutMs} ms` };
          continue;
        }
        if (err instanceof Packet.DecodeError) {
          this.stats.malformed++;
          last = { status: 'error', detail: `malformed answer from ${server.host}: ${err.message}` };
          continue;
        }
        last = { status: 'error', detail: (err as Error).message };
      }
    }
    return {
      name: qname,
      type,
      status: last.status,
      records: [],
      cnames: [],
      ad: false,
      rcode: -1,
      detail: last.detail,
    };
  }

  private interpret<T extends RRType>(name: string, type: T, packet: Packet): DnsAnswer<T> {
    const rcode = packet.header.rcode;
    const ad = (packet.header as unknown as { ad: number }).ad === 1;
    const base = { name, type, ad, rcode, cnames: [] as string[], records: [] as RecordOf<T>[] };
    if (packet.errors.some((e) => !e.recovered)) {
      this.stats.malformed++;
      return { ...base, status: 'error', detail: `malformed answer: ${packet.errors[0]?.message}` };
    }
    // Follow the CNAME chain inside the answer section (RFC 1034 3.6.2), bounded.
    let owner = name;
    for (let i = 0; i < 16; i++) {
      const cname = packet.answers.find((r) => r.type === TYPE_CODES.CNAME && sameName(r.name, owner));
      if (!cname || type === 'CNAME') break;
      owner = String((cname as unknown as { domain: string }).domain).replace(/\.$/, '');
      base.cnames.push(owner);
    }
    const code = TYPE_CODES[type];
    const matching = packet.answers.filter((r) => r.type === code && sameName(r.name, owner));
    base.records = decodeRecords(type, matching);
    switch (rcode) {
      case 0:
        return { ...base, status: base.records.length > 0 ? 'ok' : 'nodata' };
      case 3:
        return { ...base, status: 'nxdomain' };
      case 2:
        return { ...base, status: 'servfail', detail: 'the resolver answered SERVFAIL' };
      case 5:
        return { ...base, status: 'refused', detail: 'the resolver refused the query' };
      default:
        return { ...base, status: 'error', detail: `the resolver answered rcode ${rcode}` };
    }
  }

  private encode(id: number, name: string, type: RRType, opts: QueryOptions): Buffer {
    const packet = new Packet();
    packet.header.id = id;
    packet.header.rd = 1;
    (packet.header as unknown as { cd: number }).cd = opts.cd ? 1 : 0;
    packet.questions.push({ name, type: TYPE_CODES[type], class: Packet.CLASS.IN } as Packet['questions'][number]);
    packet.additionals.push(Packet.Resource.EDNS([], { doFlag: true, udpPayloadSize: 1232 }));
    return packet.toBuffer();
  }

  private socketFor(family: 4 | 6) {
    const mine = this.pool.filter((s) => s.family === family);
    if (mine.length < this.poolSize) {
      const socket = createSocket(family === 4 ? 'udp4' : 'udp6');
      const entry = { socket, family, pending: new Map<number, Pending>() };
      socket.on('message', (msg, rinfo) => this.onMessage(entry.pending, msg, rinfo.address, rinfo.port));
      socket.on('error', () => {});
      socket.unref();
      this.pool.push(entry);
      return entry;
    }
    this.next = (this.next + 1) % mine.length;
    return mine[this.next] as (typeof mine)[number];
  }

  private onMessage(pending: Map<number, Pending>, msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const p = pending.get(msg.readUInt16BE(0));
    // Only the server asked may answer (RFC 5452 section 9.1); anything else is dropped.
    if (!p || p.server.host !== address || p.server.port !== port) return;
    if ((msg[2] as number) >> 7 !== 1) return;
    // Parsed once, here: the question must be ours; a malformed answer to our ID from our server
    // is handed over as its error, to be reported as such.
    let answer: Packet | Error;
    try {
      answer = Packet.parse(msg);
      const q = answer.questions[0];
      if (q && (!sameName(q.name, p.name) || q.type !== p.qtype)) return;
    } catch (err) {
      answer = err as Error;
    }
    pending.delete(p.id);
    clearTimeout(p.timer);
    p.resolve(answer);
  }

  private udp(server: Server, name: string, type: RRType, opts: QueryOptions): Promise<Packet | Error> {
    if (this.closed) return Promise.reject(new Error('resolver closed'));
    const entry = this.socketFor(server.family);
    let id = randomInt(0, 0x10000);
    while (entry.pending.has(id)) id = randomInt(0, 0x10000);
    const buf = this.encode(id, name, type, opts);
    return new Promise<Packet | Error>((resolve, reject) => {
      const timer = setTimeout(() => {
        entry.pending.delete(id);
        reject(new DnsTimeout());
      }, this.timeoutMs);
      entry.pending.set(id, { id, name, qtype: TYPE_CODES[type], server, resolve, reject, timer });
      this.stats.udpSent++;
      entry.socket.send(buf, server.port, server.host, (err) => {
        if (err) {
          entry.pending.delete(id);
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  }

  private tcp(server: Server, name: string, type: RRType, opts: QueryOptions): Promise<Buffer> {
    const id = randomInt(0, 0x10000);
    const query = this.encode(id, name, type, opts);
    return new Promise<Buffer>((resolve, reject) => {
      const socket = tcpConnect({ host: server.host, port: server.port });
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (err: Error | null, msg?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(msg as Buffer);
      };
      const timer = setTimeout(() => done(new DnsTimeout()), this.timeoutMs);
      socket.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        socket.write(Buffer.concat([len, query]));
      });
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > this.maxTcpBytes + 2) return done(new Error(`TCP answer larger than ${this.maxTcpBytes} bytes`));
        const all = Buffer.concat(chunks);
        if (all.length < 2) return;
        const want = all.readUInt16BE(0);
        if (all.length >= want + 2) {
          const msg = all.subarray(2, 2 + want);
          if (msg.length >= 2 && msg.readUInt16BE(0) !== id) return done(new Error('TCP answer with a wrong ID'));
          done(null, msg);
        }
      });
      socket.on('error', (err) => done(err));
      socket.on('close', () => done(new Error('TCP connection closed before a full answer')));
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.pool) {
      for (const p of s.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('resolver closed'));
      }
      s.socket.close();
    }
    this.pool.length = 0;
  }
}
