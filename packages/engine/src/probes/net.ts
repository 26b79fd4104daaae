/**
 * Sockets for probes, with the private-address guard of CONTRACT.md section 5: a connection goes
 * only to an IP address the audit resolved itself, that address is checked right before
 * connecting and again against the socket's actual peer, and every step has a timeout. Reading is
 * bounded: line length, number of lines, bytes.
 */
import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { DnsClient } from '../dns/audit-dns.js';
import { allowedAddresses, reservedRange, sameAddress } from '../net/address.js';

export class GuardError extends Error {
  readonly code = 'EGUARD';
  constructor(
    readonly address: string,
    readonly range: string,
  ) {
    super(`refusing to connect to ${address} (${range}) without --allow-private-targets`);
  }
}

export class ProbeTimeout extends Error {
  readonly code = 'ETIMEOUT';
}

export class ProtocolError extends Error {
  readonly code = 'EPROTO_MAILAUDIT';
}

/** Opens TCP connections; tests may pass their own (it receives already guarded addresses). */
export interface Connector {
  connect(address: string, port: number, timeoutMs: number): Promise<Socket>;
}

export const netConnector: Connector = {
  connect(address, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: address, port, family: isIP(address) });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ProbeTimeout(`no TCP connection to ${address}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  },
};

/** Throws GuardError when `address` is not public and private targets are not allowed. */
export function guardAddress(address: string, allowPrivateTargets: boolean): void {
  if (allowPrivateTargets) return;
  const range = reservedRange(address);
  if (range) throw new GuardError(address, range);
}

/** What `host` resolves to (a literal address is itself), and which of those the guard allows. */
export async function resolveAllowed(
  dns: DnsClient,
  host: string,
  allowPrivateTargets: boolean,
): Promise<{ all: string[]; allowed: string[] }> {
  let all: string[];
  if (isIP(host)) all = [host];
  else {
    const [a, aaaa] = await Promise.all([dns.query(host, 'A'), dns.query(host, 'AAAA')]);
    all = [...a.records, ...aaaa.records];
  }
  return { all, allowed: allowedAddresses(all, allowPrivateTargets) };
}

/**
 * A `lookup` for node:http(s) that answers only `address`: the request goes to the address the
 * guard checked, whatever DNS would say at connection time.
 */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_name: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}

/** Connects through `connector` after the guard, then checks the peer actually connected to. */
export async function guardedConnect(
  connector: Connector,
  address: string,
  port: number,
  timeoutMs: number,
  allowPrivateTargets: boolean,
): Promise<Socket> {
  guardAddress(address, allowPrivateTargets);
  const socket = await connector.connect(address, port, timeoutMs);
  const peer = socket.remoteAddress;
  if (peer && !sameAddress(peer, address)) {
    socket.destroy();
    throw new GuardError(peer, `connected to ${peer}, not the ${address} that was checked`);
  }
  if (peer) {
    try {
      guardAddress(peer, allowPrivateTargets);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }
  return socket;
}

export interface ReadLimits {
  /** Longest line accepted. @default 2048 */
  maxLine?: number;
  /** Most lines in one reply. @default 200 */
  maxLines?: number;
}

/**
 * Reads CRLF-terminated lines from a socket with limits; `readReply` resolves when `done` says the
 * lines so far form a complete reply.
 */
export class LineReader {
  private buffer = '';
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private error: Error | undefined;
  private ended = false;
  private readonly maxLine: number;
  private readonly maxLines: number;

  constructor(
    private socket: Socket | TLSSocket,
    limits: ReadLimits = {},
  ) {
    this.maxLine = limits.maxLine ?? 2048;
    this.maxLines = limits.maxLines ?? 200;
    this.attach(socket);
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffer += chunk.toString('latin1');
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > this.maxLine) return this.fail(new ProtocolError(`a line longer than ${this.maxLine} bytes`));
      this.lines.push(line);
      if (this.lines.length > this.maxLines)
        return this.fail(new ProtocolError(`more than ${this.maxLines} lines in one reply`));
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > this.maxLine) this.fail(new ProtocolError(`a line longer than ${this.maxLine} bytes`));
    this.waiter?.();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.waiter?.();
  };

  private readonly onError = (err: Error) => this.fail(err);

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Stops reading from the current socket (before a TLS upgrade takes it over). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
  }

  /** Reads from a new socket (the TLS one after an upgrade). */
  reattach(socket: Socket | TLSSocket): void {
    this.socket = socket;
    this.buffer = '';
    this.lines = [];
    this.ended = false;
    this.attach(socket);
  }

  private fail(err: Error): void {
    this.error ??= err;
    this.socket.destroy();
    this.waiter?.();
  }

  /** Whether bytes arrived that no reply has consumed (a server talking out of turn). */
  get pending(): boolean {
    return this.buffer.length > 0 || this.lines.length > 0;
  }

  readReply(done: (lines: string[]) => boolean, timeoutMs: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.socket.destroy();
        reject(new ProbeTimeout(`no complete answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.error) {
          clearTimeout(timer);
          this.waiter = undefined;
          return reject(this.error);
        }
        // The first complete reply; lines after it stay for the next read.
        for (let k = 1; k <= this.lines.length; k++) {
          const head = this.lines.slice(0, k);
          if (!done(head)) continue;
          clearTimeout(timer);
          this.waiter = undefined;
          this.lines = this.lines.slice(k);
          return resolve(head);
        }
        if (this.ended) {
          clearTimeout(timer);
          this.waiter = undefined;
          return reject(new ProtocolError('the server closed the connection'));
        }
      };
      this.waiter = check;
      check();
    });
  }

  write(line: string): void {
    this.socket.write(`${line}\r\n`);
  }
}

/** TLS on an existing socket (after STARTTLS/STLS) or on a fresh guarded one (implicit TLS). */
export function tlsHandshake(socket: Socket, opts: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ ...opts, socket });
    const timer = setTimeout(() => {
      tls.destroy();
      reject(new ProbeTimeout(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(tls);
    });
    tls.once('error', (err) => {
      clearTimeout(timer);
      tls.destroy();
      reject(err);
    });
    tls.once('close', () => {
      clearTimeout(timer);
      reject(new ProtocolError('the connection closed during the TLS handshake'));
    });
  });
}
