/**
 * The SMTP side of `mailaudit inbound` (smtp-server): a receiver for one domain that takes mail
 * only for live test addresses and never relays. Recipients of other domains are refused at RCPT
 * (550), unknown local parts too (550); a message over the size limit is refused (552) and never
 * held in memory beyond it; each client address has a bounded number of
 * connections, each connection a bounded idle time and a bounded life. What happens to an accepted
 * message is the `accept` handler's business: the reply to DATA waits for it, so a 250 means the
 * results are stored.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceiverLimits {
  /** Largest message accepted, in bytes (announced with SIZE, RFC 1870). @default 1048576 */
  maxMessageBytes?: number;
  /** Connections at once from one client address. @default 3 */
  maxConnectionsPerAddress?: number;
  /** Connections at once in all. @default 200 */
  maxConnections?: number;
  /** Recipients of one message. @default 5 */
  maxRecipients?: number;
  /** Idle time before a connection is dropped. @default 30000 */
  idleTimeoutMs?: number;
  /** Longest life of one connection, however busy. @default 300000 */
  sessionTimeoutMs?: number;
}

export interface ReceiverOptions extends ReceiverLimits {
  /** The domain test addresses live at (INBOUND_DOMAIN). */
  domain: string;
  /** The server's host name, in the greeting. */
  hostname: string;
  /** Certificate and key (PEM) for STARTTLS. Without them, STARTTLS is not offered. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface ReceivedMessage {
  /** Local parts of the accepted recipients, lower case. */
  recipients: string[];
  /** The client's address. */
  ip: string;
  /** The name given in HELO/EHLO. */
  helo: string;
  /** MAIL FROM; empty for the null reverse-path. */
  mailFrom: string;
  /** The TLS session, or null for a message sent in the clear. */
  tls: { version: string; cipher: string } | null;
  /** The message: header and body, at most maxMessageBytes. The handler must not keep it. */
  message: Buffer;
}

export interface ReceiverHandlers {
  /** Whether a local part names a live test address. A thrown error answers 451 (try later). */
  isLive(localPart: string): Promise<boolean>;
  /** Analyses and stores a message; the reply to DATA waits for it. A thrown error answers 451. */
  accept(message: ReceivedMessage): Promise<void>;
  /** Trouble worth a log line (a handler that failed); never given message contents. */
  onError?(err: Error, context: string): void;
}

export interface Receiver {
  listen(port: number, host: string): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  /** Connections open now, by client address (for tests and metrics). */
  connections(): Map<string, number>;
}

/** An error smtp-server turns into the given reply. */
function reply(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

/** Splits `local@domain`; the domain in lower case without a trailing dot, the local part in lower case. */
export function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return {
    local: address.slice(0, at).toLowerCase(),
    domain: address
      .slice(at + 1)
      .toLowerCase()
      .replace(/\.$/, ''),
  };
}

export function createReceiver(options: ReceiverOptions, handlers: ReceiverHandlers): Receiver {
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
  const perAddress = options.maxConnectionsPerAddress ?? 3;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 300_000;
  const domain = options.domain.toLowerCase().replace(/\.$/, '');
  const open = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** The protocol each session negotiated (getCipher's `version` is the cipher suite's, not the session's). */
  const protocols = new Map<string, string>();
  const report = (err: unknown, context: string) =>
    handlers.onError?.(err instanceof Error ? err : new Error(String(err)), context);

  const server: SMTPServer = new SMTPServer({
    name: options.hostname,
    banner: 'mailaudit test-message receiver; no relaying',
    size: maxMessageBytes,
    // Receive only: no AUTH, so nobody can be a "local user" whose mail would be relayed.
    authOptional: true,
    disabledCommands: options.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !options.tls,
    // iprev is the analysis's job, through the engine's guarded resolver, not the system's.
    disableReverseLookup: true,
    maxClients: options.maxConnections ?? 200,
    maxRecipients: options.maxRecipients ?? 5,
    socketTimeout: options.idleTimeoutMs ?? 30_000,
    closeTimeout: 5_000,
    logger: false,
    ...(options.tls
      ? {
          cert: options.tls.cert,
          key: options.tls.key,
          // Legacy senders are let in to be reported (message.tls.legacy), not refused: TLS 1.0 and
          // 1.1 need OpenSSL's security level 0 on current systems.
          minVersion: 'TLSv1' as const,
          ciphers: 'DEFAULT:@SECLEVEL=0',
        }
      : {}),

    onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const ip = session.remoteAddress;
      const n = open.get(ip) ?? 0;
      if (n >= perAddress) {
        callback(reply(421, `Too many connections from ${ip}; try again later`));
        return;
      }
      open.set(ip, n + 1);
      // The whole connection has a deadline that no activity extends.
      const timer = setTimeout(() => {
        for (const c of server.connections) {
          if ((c as unknown as { id: string }).id === session.id) {
            c.send(421, 'Session time limit reached; closing');
            c.close();
          }
        }
      }, sessionTimeoutMs);
      timer.unref();
      timers.set(session.id, timer);
      callback();
    },

    onSecure(socket, session, callback) {
      const protocol = 'getProtocol' in socket ? socket.getProtocol() : null;
      if (protocol) protocols.set(session.id, protocol);
      callback();
    },

    onClose(session: SMTPServerSession) {
      protocols.delete(session.id);
      const timer = timers.get(session.id);
      if (!timer) return; // refused in onConnect: never counted
      clearTimeout(timer);
      timers.delete(session.id);
      const n = (open.get(session.remoteAddress) ?? 1) - 1;
      if (n > 0) open.set(session.remoteAddress, n);
      else open.delete(session.remoteAddress);
    },

    onRcptTo(address, _session, callback) {
      const parts = splitAddress(address.address);
      if (!parts || parts.domain !== domain) {
        callback(reply(550, `Relaying denied: this server only receives mail for ${domain}`));
        return;
      }
      handlers.isLive(parts.local).then(
        (live) => callback(live ? undefined : reply(550, `No such test address: ${address.address}`)),
        (err) => {
          report(err, 'recipient lookup');
          callback(reply(451, 'Cannot check the recipient now; try again later'));
        },
      );
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Beyond the limit, the rest is read and dropped: never held in memory.
        if (size <= maxMessageBytes) chunks.push(chunk);
      });
      stream.on('error', (err) => report(err, 'message stream'));
      stream.on('end', () => {
        if (stream.sizeExceeded || size > maxMessageBytes) {
          callback(reply(552, `Message larger than ${maxMessageBytes} bytes; not accepted`));
          return;
        }
        const tls = session.secure
          ? {
              version: protocols.get(session.id) ?? 'unknown',
              cipher: session.tlsOptions ? String(session.tlsOptions.name) : 'unknown',
            }
          : null;
        const message: ReceivedMessage = {
          recipients: session.envelope.rcptTo.flatMap((r) => splitAddress(r.address)?.local ?? []),
          ip: session.remoteAddress,
          // A host name is at most 255 octets (RFC 1035 2.3.4); anything longer is cut, not kept whole.
          helo: String(session.hostNameAppearsAs || '').slice(0, 255),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          tls,
          message: Buffer.concat(chunks, size),
        };
        chunks.length = 0;
        handlers.accept(message).then(
          () => callback(null, 'Message received and analysed'),
          (err) => {
            report(err, 'message');
            callback(reply(451, 'The message could not be analysed now; try again later'));
          },
        );
      });
    },
  });
  server.on('error', (err) => report(err, 'server'));

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const s = server.listen(port, host, () => {
          s.off('error', reject);
          const a = s.address();
          resolve(typeof a === 'object' && a ? { port: a.port, address: a.address } : { port, address: host });
        });
        s.once('error', reject);
      });
    },
    close() {
      for (const t of timers.values()) clearTimeout(t);
      return new Promise((resolve) => server.close(() => resolve()));
    },
    connections: () => new Map(open),
  };
}
