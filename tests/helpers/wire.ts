/**
 * A small line client for the lab tests: connect (plain or TLS), read a greeting, send a command,
 * read its reply, upgrade to TLS. The auditor's own probes live in packages/engine; these helpers
 * only check what the lab serves.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';

export type Protocol = 'smtp' | 'imap' | 'pop3';

/** Whether `reply` (all lines so far) is a complete reply in `protocol`. */
function complete(protocol: Protocol, reply: string, tag?: string): boolean {
  const lines = reply.split('\r\n').filter((l) => l.length > 0);
  const last = lines.at(-1);
  if (!reply.endsWith('\r\n') || !last) return false;
  if (protocol === 'smtp') return /^\d{3} /.test(last) || /^\d{3}$/.test(last);
  if (protocol === 'imap') return tag ? last.startsWith(`${tag} `) : last.startsWith('* ');
  // POP3: a single +OK/-ERR line, or a multi-line answer ending in "." (CAPA).
  if (tag === 'multi') return last === '.' || last.startsWith('-ERR');
  return true;
}

export class LineClient {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private closed = false;

  constructor(
    private socket: Socket | TLSSocket,
    readonly protocol: Protocol,
  ) {
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      // A server that never ends its line (the lab has one) must not fill the test's memory.
      if (this.buffer.length > 64 * 1024) {
        this.buffer = '';
        socket.destroy();
      }
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on('error', () => {});
  }

  static async open(host: string, port: number, protocol: Protocol, tls?: ConnectionOptions): Promise<LineClient> {
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = tls
        ? tlsConnect({ host, port, servername: undefined, ...tls }, () => resolve(s))
        : netConnect({ host, port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(5000, () => s.destroy(new Error(`timeout on ${host}:${port}`)));
    });
    const client = new LineClient(socket, protocol);
    await client.read();
    return client;
  }

  /** Reads until the reply is complete (or the peer closes). */
  read(tag?: string, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete reply: ${JSON.stringify(this.buffer)}`)), timeoutMs);
      const check = () => {
        if (complete(this.protocol, this.buffer, tag) || this.closed) {
          clearTimeout(timer);
          this.waiting = undefined;
          const out = this.buffer;
          this.buffer = '';
          resolve(out);
        }
      };
      this.waiting = check;
      check();
    });
  }

  async command(line: string, tag?: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.read(tag);
  }

  /** Upgrades the connection with TLS (after STARTTLS/STLS was accepted). */
  async startTls(opts: ConnectionOptions): Promise<TLSSocket> {
    if (this.closed) throw new Error('the server closed the connection before the handshake');
    this.socket.removeAllListeners('data');
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ socket: this.socket as Socket, ...opts }, () => resolve(t));
      t.once('error', reject);
      t.once('close', () => reject(new Error('closed during the handshake')));
      t.setTimeout(5000, () => t.destroy(new Error('handshake timeout')));
    });
    this.socket = tls;
    this.attach(tls);
    return tls;
  }

  /** The TLS socket of a connection opened with TLS or upgraded. */
  get tls(): TLSSocket {
    if (!('getProtocol' in this.socket)) throw new Error('not a TLS connection');
    return this.socket;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** TLS options trusting the lab CA only, checking `servername` unless told not to. */
export function labTls(caFile: string, servername: string, extra: ConnectionOptions = {}): ConnectionOptions {
  return { ca: readFileSync(caFile), servername, rejectUnauthorized: false, ...extra };
}

/** TLS options that offer TLS 1.0 only, as a legacy client would. */
export const TLS10_ONLY: ConnectionOptions = {
  minVersion: 'TLSv1',
  maxVersion: 'TLSv1',
  ciphers: 'DEFAULT:@SECLEVEL=0',
};

export interface HandshakeResult {
  protocol: string | null;
  authorized: boolean;
  authorizationError: string | undefined;
  cert: PeerCertificate;
}

export function describe(tls: TLSSocket): HandshakeResult {
  return {
    protocol: tls.getProtocol(),
    authorized: tls.authorized,
    authorizationError: tls.authorizationError ? String(tls.authorizationError) : undefined,
    cert: tls.getPeerCertificate(),
  };
}

/** Resolves with the error code when a TCP connection fails, or 'connected'. */
export function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    s.setTimeout(3000, () => {
      s.destroy();
      resolve('timeout');
    });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
