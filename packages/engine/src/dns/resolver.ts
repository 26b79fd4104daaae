/**
 * A stub resolver built for audits: it asks recursive resolvers with EDNS0 (RFC 6891) and the DO
 * bit, reads the AD bit (RFC 4035 3.2.3), retries over TCP when an answer is truncated
 * (RFC 7766), has per-attempt timeouts and retries across servers, and keeps many queries in
 * flight over a few connected UDP sockets per server with random IDs and random source ports
 * (RFC 5452).
 *
 * With `transport: 'tcp'` the queries go instead over a few long-lived TCP connections per server,
 * many at once on each (pipelining, RFC 7766 6.2.1.1; the answers come in any order and are matched
 * by ID and question), the queries of one turn of the event loop written in one system call. For a
 * night of audits against the provider's own resolver: one UDP query costs a send and a receive
 * system call and a wake-up each, a pipelined one a share of one; a connection that cannot be
 * opened sends that server's queries over UDP for a while (see `TCP_DOWN_MS`).
 *
 * wire.ts encodes the queries and decodes only what the checks read of the answers; dns2's
 * clients are not used because they cannot send EDNS with DO, have no timeout over TCP and open a
 * socket per query. Connected sockets: the kernel drops datagrams from any other address and port,
 * and a send looks up no route.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { type RecordOf, type RRType, TYPE_CODES } from './records.js';
import { CNAME, decodeAnswer, encodeQuery, randomId, type WireAnswer, WireError, type WireRecord } from './wire.js';

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
  /**
   * Seconds the answer may be reused: the smallest TTL of the records read (CNAMEs included), or
   * for NXDOMAIN and NODATA the SOA's negative TTL (RFC 2308 5); absent: not to be reused.
   */
  ttl?: number;
}

/** How a Resolver sends its queries (ResolverOptions `transport`). */
export type DnsTransport = 'udp' | 'tcp';

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
  /**
   * 'udp': datagrams, TCP for a truncated answer only. 'tcp': pipelined over long-lived TCP
   * connections (`streams` a server), for a resolver of one's own that allows as many
   * (Unbound's `incoming-num-tcp`, 10 a thread by default). @default 'udp'
   */
  transport?: DnsTransport;
  /** TCP connections a server with transport 'tcp'. @default 4 */
  streams?: number;
}

export interface ResolverStats {
  queries: number;
  udpSent: number;
  tcpQueries: number;
  /** Queries sent over a pipelined TCP connection (transport 'tcp'). */
  streamed: number;
  timeouts: number;
  malformed: number;
}

interface Server {
  host: string;
  port: number;
  family: 4 | 6;
  /** Transport 'tcp': until when (performance.now() ms) this server's queries go over UDP instead. */
  tcpDownUntil?: number;
}

/** How long a server whose TCP connection could not be opened is asked over UDP. */
export const TCP_DOWN_MS = 30_000;

interface Pending {
  id: number;
  name: string;
  qtype: number;
  server: Server;
  /** The decoded answer, or the decoding error of a malformed one. */
  resolve: (answer: WireAnswer | Error) => void;
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

const bare = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/** The connected UDP sockets of one server, and the queries in flight on each. */
interface Conn {
  socket: UdpSocket;
  pending: Map<number, Pending>;
  /** Settled once the socket is connected; `connected` says so without waiting. */
  ready: Promise<void>;
  connected: boolean;
}

export class Resolver {
  readonly stats: ResolverStats = { queries: 0, udpSent: 0, tcpQueries: 0, streamed: 0, timeouts: 0, malformed: 0 };
  private readonly servers: Server[];
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly maxTcpBytes: number;
  private readonly pools = new Map<Server, Conn[]>();
  private readonly poolSize: number;
  private readonly transport: DnsTransport;
  private readonly streamCount: number;
  private readonly streamPools = new Map<Server, Stream[]>();
  private nextStream = 0;
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
    this.transport = opts.transport ?? 'udp';
    this.streamCount = Math.max(1, opts.streams ?? 4);
  }

  /** Hands the caller's slot on to the next query waiting, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /**
   * One question; never throws for DNS trouble: the status says what happened. Not an async
   * function: a query with a free slot goes straight to its attempts (one promise fewer a query).
   */
  query<T extends RRType>(name: string, type: T, opts: QueryOptions = {}): Promise<DnsAnswer<T>> {
    this.stats.queries++;
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return this.attempt(name, type, opts);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.attempt(name, type, opts));
  }

  /** The attempts of a query holding a slot, which it hands on when done. */
  private async attempt<T extends RRType>(name: string, type: T, opts: QueryOptions): Promise<DnsAnswer<T>> {
    try {
      const qname = bare(name) || '.';
      // How the last attempt failed: a timeout, or another error (the detail is for people only).
      let last: { status: 'timeout' | 'error'; detail: string } = { status: 'timeout', detail: 'no answer' };
      for (let attempt = 0; attempt < this.attempts; attempt++) {
        const server = this.servers[attempt % this.servers.length] as Server;
        try {
          const streamed = this.transport === 'tcp' && !((server.tcpDownUntil ?? 0) > performance.now());
          const first = await (streamed
            ? this.streamed(server, qname, type, opts)
            : this.udp(server, qname, type, opts));
          if (first instanceof Error) throw first;
          let answer = first;
          if (answer.tc && streamed) throw new Error(`truncated answer over TCP from ${server.host}`);
          if (answer.tc) {
            this.stats.tcpQueries++;
            answer = await this.tcp(server, qname, type, opts);
          }
          return this.interpret(qname, type, answer);
        } catch (err) {
          if (err instanceof DnsTimeout) {
            this.stats.timeouts++;
            last = { status: 'timeout', detail: `no answer from ${server.host} within ${this.timeoutMs} ms` };
            continue;
          }
          if (err instanceof WireError) {
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
    } finally {
      this.release();
    }
  }

  private interpret<T extends RRType>(name: string, type: T, answer: WireAnswer): DnsAnswer<T> {
    const { rcode, ad } = answer;
    const cnames: string[] = [];
    const records: RecordOf<T>[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    const rrs = answer.records;
    // Follow the CNAME chain inside the answer section (RFC 1034 3.6.2), bounded.
    let owner = name === '.' ? '' : name.toLowerCase();
    if (type !== 'CNAME') {
      for (let i = 0; i < 16; i++) {
        let cname: WireRecord | undefined;
        for (const r of rrs) {
          if (r.type === CNAME && r.owner === owner) {
            cname = r;
            break;
          }
        }
        if (!cname) break;
        owner = cname.value as string;
        cnames.push(owner);
        if (cname.ttl < ttl) ttl = cname.ttl;
      }
    }
    const code = TYPE_CODES[type];
    for (const r of rrs) {
      if (r.type !== code || r.owner !== owner) continue;
      records.push(r.value as RecordOf<T>);
      if (r.ttl < ttl) ttl = r.ttl;
    }
    // One object literal per outcome (the fields in the same order as before), no spread of a base.
    let status: DnsStatus;
    let keep: number | undefined;
    let detail: string | undefined;
    switch (rcode) {
      case 0:
        status = records.length > 0 ? 'ok' : 'nodata';
        if (records.length > 0) keep = ttl;
        else if (answer.negativeTtl !== undefined) keep = Math.min(ttl, answer.negativeTtl);
        break;
      case 3:
        status = 'nxdomain';
        if (answer.negativeTtl !== undefined) keep = Math.min(ttl, answer.negativeTtl);
        break;
      case 2:
        status = 'servfail';
        detail = 'the resolver answered SERVFAIL';
        break;
      case 5:
        status = 'refused';
        detail = 'the resolver refused the query';
        break;
      default:
        status = 'error';
        detail = `the resolver answered rcode ${rcode}`;
    }
    if (keep !== undefined) return { name, type, ad, rcode, cnames, records, status, ttl: keep };
    if (detail !== undefined) return { name, type, ad, rcode, cnames, records, status, detail };
    return { name, type, ad, rcode, cnames, records, status };
  }

  /** A connected socket to `server`, round robin over its pool (opened on first use). */
  private conn(server: Server): Conn {
    let pool = this.pools.get(server);
    if (!pool) {
      pool = [];
      this.pools.set(server, pool);
    }
    if (pool.length < this.poolSize) {
      // A receive buffer of 1 MiB (the kernel caps it at net.core.rmem_max): a burst of answers
      // while the event loop is busy is queued, not dropped into a 2 s timeout.
      const socket = createSocket({ type: server.family === 4 ? 'udp4' : 'udp6', recvBufferSize: 1 << 20 });
      const entry: Conn = { socket, pending: new Map(), ready: Promise.resolve(), connected: false };
      entry.ready = new Promise<void>((resolve) => {
        socket.connect(server.port, server.host, () => {
          entry.connected = true;
          resolve();
        });
        // A connect that fails leaves the socket unusable: its queries fail as errors.
        socket.once('error', () => resolve());
      });
      socket.on('message', (msg, rinfo) => this.onMessage(entry.pending, msg, rinfo.address, rinfo.port));
      socket.on('error', () => {});
      socket.unref();
      pool.push(entry);
      return entry;
    }
    this.next = (this.next + 1) % pool.length;
    return pool[this.next] as Conn;
  }

  private onMessage(pending: Map<number, Pending>, msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const p = pending.get(msg.readUInt16BE(0));
    // Only the server asked may answer (RFC 5452 section 9.1); anything else is dropped.
    if (!p || p.server.host !== address || p.server.port !== port) return;
    if ((msg[2] as number) >> 7 !== 1) return;
    deliver(pending, p, msg);
  }

  /** One UDP attempt: the decoded answer, or the decoding error of a malformed one. */
  private udp(server: Server, name: string, type: RRType, opts: QueryOptions): Promise<WireAnswer | Error> {
    if (this.closed) return Promise.reject(new Error('resolver closed'));
    const entry = this.conn(server);
    if (entry.connected) return this.send(entry, server, name, type, opts);
    return entry.ready.then(() => {
      if (!entry.connected) throw new Error(`cannot reach ${server.host} port ${server.port} over UDP`);
      return this.send(entry, server, name, type, opts);
    });
  }

  private send(
    entry: Conn,
    server: Server,
    name: string,
    type: RRType,
    opts: QueryOptions,
  ): Promise<WireAnswer | Error> {
    if (this.closed) return Promise.reject(new Error('resolver closed'));
    this.stats.udpSent++;
    return awaitAnswer(entry.pending, server, name, type, opts, this.timeoutMs, (query, fail) =>
      entry.socket.send(query, (err) => {
        if (err) fail(err);
      }),
    );
  }

  /** A pipelined TCP connection to `server`, round robin over its pool (opened on first use, again after a close). */
  private stream(server: Server): Stream {
    let pool = this.streamPools.get(server);
    if (!pool) {
      pool = [];
      this.streamPools.set(server, pool);
    }
    if (pool.length < this.streamCount) {
      const list = pool;
      const stream = new Stream(server, this.maxTcpBytes, this.timeoutMs, (s, everConnected) => {
        const i = list.indexOf(s);
        if (i >= 0) list.splice(i, 1);
        // Never connected: the server takes no TCP (or no more connections); UDP for a while.
        if (!everConnected) server.tcpDownUntil = performance.now() + TCP_DOWN_MS;
      });
      pool.push(stream);
      return stream;
    }
    this.nextStream = (this.nextStream + 1) % pool.length;
    return pool[this.nextStream] as Stream;
  }

  /** One attempt over a pipelined TCP connection: the decoded answer, or the decoding error of a malformed one. */
  private streamed(server: Server, name: string, type: RRType, opts: QueryOptions): Promise<WireAnswer | Error> {
    if (this.closed) return Promise.reject(new Error('resolver closed'));
    const stream = this.stream(server);
    this.stats.streamed++;
    return awaitAnswer(stream.pending, server, name, type, opts, this.timeoutMs, (query) => stream.write(query));
  }

  private tcp(server: Server, name: string, type: RRType, opts: QueryOptions): Promise<WireAnswer> {
    const id = randomId();
    const qtype = TYPE_CODES[type];
    const query = encodeQuery(id, name === '.' ? '' : name, qtype, !!opts.cd);
    return new Promise<WireAnswer>((resolve, reject) => {
      const socket = tcpConnect({ host: server.host, port: server.port });
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const done = (err: Error | null, answer?: WireAnswer) => {
        clearTimeout(timer);
        socket.destroy();
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve(answer as WireAnswer);
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
          try {
            done(null, decodeAnswer(msg, qtype));
          } catch (err) {
            done(err as Error);
          }
        }
      });
      socket.on('error', (err) => done(err));
      socket.on('close', () => done(new Error('TCP connection closed before a full answer')));
    });
  }

  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) {
      for (const c of pool) {
        for (const p of c.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error('resolver closed'));
        }
        c.socket.close();
      }
    }
    this.pools.clear();
    for (const pool of this.streamPools.values()) for (const s of [...pool]) s.destroy(new Error('resolver closed'));
    this.streamPools.clear();
  }
}

/**
 * One query in `pending` under a fresh random ID (RFC 5452 9.2) until its answer comes or
 * `timeoutMs` passes; `put` puts it on the wire, and calls `fail` if that went wrong.
 */
function awaitAnswer(
  pending: Map<number, Pending>,
  server: Server,
  name: string,
  type: RRType,
  opts: QueryOptions,
  timeoutMs: number,
  put: (query: Buffer, fail: (err: Error) => void) => void,
): Promise<WireAnswer | Error> {
  let id = randomId();
  while (pending.has(id)) id = randomId();
  const qtype = TYPE_CODES[type];
  const query = encodeQuery(id, name === '.' ? '' : name, qtype, !!opts.cd);
  const qname = name === '.' ? '' : name.toLowerCase();
  return new Promise<WireAnswer | Error>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new DnsTimeout());
    }, timeoutMs);
    pending.set(id, { id, name: qname, qtype, server, resolve, reject, timer });
    put(query, (err) => {
      pending.delete(id);
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Hands `msg`, a response bearing `p`'s ID from `p`'s server, to `p`. Decoded once, here: an answer
 * to another question under that ID is not its answer (dropped; the query goes on waiting, RFC 5452
 * 9.1); a malformed answer is handed over as its error, to be reported as such.
 */
function deliver(pending: Map<number, Pending>, p: Pending, msg: Buffer): void {
  let answer: WireAnswer | Error;
  try {
    answer = decodeAnswer(msg, p.qtype);
    if (answer.qname !== undefined && (answer.qname !== p.name || answer.qtype !== p.qtype)) return;
  } catch (err) {
    answer = err as Error;
  }
  pending.delete(p.id);
  clearTimeout(p.timer);
  p.resolve(answer);
}

/**
 * One long-lived TCP connection to a resolver carrying many queries at once (RFC 7766 6.2.1.1),
 * each framed by its two-octet length (RFC 1035 4.2.2). The queries of one turn of the event loop
 * go out in one write; answers are matched by ID, then by question, in whatever order they come.
 * When the connection closes (the server's idle timeout, an error, a reset) its queries still
 * waiting fail, as an attempt that failed (the resolver's next attempt opens a new connection).
 */
class Stream {
  readonly pending = new Map<number, Pending>();
  private readonly socket: Socket;
  private connected = false;
  private ended = false;
  /** Queries written this turn, sent together at its end. */
  private out: Buffer[] = [];
  /** The start of a frame not yet complete. */
  private rest: Buffer | undefined;

  constructor(
    server: Server,
    private readonly maxBytes: number,
    connectTimeoutMs: number,
    private readonly onEnd: (stream: Stream, everConnected: boolean) => void,
  ) {
    this.socket = tcpConnect({ host: server.host, port: server.port, noDelay: true });
    this.socket.unref();
    // A server that drops TCP connection attempts (a firewall) would hold every query for the
    // kernel's connect timeout, minutes: given up after one query timeout instead.
    const connecting = setTimeout(
      () =>
        this.destroy(
          new Error(`no TCP connection to ${server.host} port ${server.port} within ${connectTimeoutMs} ms`),
        ),
      connectTimeoutMs,
    );
    connecting.unref();
    this.socket.on('connect', () => {
      clearTimeout(connecting);
      this.connected = true;
      if (this.out.length > 0) this.flush();
    });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (err) => this.destroy(err));
    this.socket.on('close', () => {
      clearTimeout(connecting);
      this.destroy(new Error(`TCP connection to ${server.host} port ${server.port} closed before the answer`));
    });
  }

  /** Never called once ended: destroy() takes the connection out of the Resolver's pool at once. */
  write(query: Buffer): void {
    if (this.out.push(query) === 1 && this.connected) setImmediate(() => this.flush());
  }

  private flush(): void {
    const out = this.out;
    if (out.length === 0 || this.ended) return;
    this.out = [];
    let size = 0;
    for (const q of out) size += q.length + 2;
    const frames = Buffer.allocUnsafe(size);
    let off = 0;
    for (const q of out) {
      frames.writeUInt16BE(q.length, off);
      q.copy(frames, off + 2);
      off += q.length + 2;
    }
    this.socket.write(frames);
  }

  private read(chunk: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let off = 0;
    while (buf.length - off >= 2) {
      const len = buf.readUInt16BE(off);
      if (len > this.maxBytes) {
        this.destroy(new Error(`TCP answer larger than ${this.maxBytes} bytes`));
        return;
      }
      if (buf.length - off < len + 2) break;
      this.answer(buf.subarray(off + 2, off + 2 + len));
      off += len + 2;
    }
    if (off < buf.length) {
      buf = buf.subarray(off);
      // A partial frame keeps only its own bytes, not the whole chunk it came in.
      this.rest = off > 0 ? Buffer.from(buf) : buf;
    }
  }

  private answer(msg: Buffer): void {
    if (msg.length < 12 || (msg[2] as number) >> 7 !== 1) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (p) deliver(this.pending, p, msg);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  destroy(err: Error): void {
    if (!this.ended) {
      this.ended = true;
      this.out = [];
      this.rest = undefined;
      this.socket.destroy();
      this.onEnd(this, this.connected);
    }
    this.failAll(err);
  }
}
