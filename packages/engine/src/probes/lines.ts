/**
 * Reading a mail protocol's replies: CRLF-terminated lines from a socket, bounded in line length
 * and number of lines, each reply with a timeout.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { NetTimeout } from '../net/connect.js';

export class ProtocolError extends Error {
  readonly code = 'EPROTO_MAILAUDIT';
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
        reject(new NetTimeout(`no complete answer within ${timeoutMs} ms`));
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
