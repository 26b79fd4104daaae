/**
 * Sockets under the private-address guard (CONTRACT.md section 5): a connection goes only to an
 * address that was checked right before connecting, the socket's actual peer is checked again,
 * and every step has a timeout.
 *
 * No step takes a host name: nothing here resolves names, so nothing here can be handed an
 * address the guard did not see, and no `lookup` callback can run before a listener is in place.
 * Every socket gets its 'error' listener in the same synchronous step that creates it, so a
 * connect that fails at once (a bind or route error) is a rejected promise, never an unhandled
 * 'error' event.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { sameAddress } from './address.js';
import { GuardError, guardAddress } from './guard.js';

/** A step that did not finish in time (connect, handshake, a reply). */
export class NetTimeout extends Error {
  readonly code = 'ETIMEOUT';
}

/** Opens TCP connections; tests may pass their own (it receives already guarded addresses). */
export interface Connector {
  connect(address: string, port: number, timeoutMs: number): Promise<Socket>;
}

export interface TcpConnectorOptions {
  /** Source address of outgoing connections. @default the system's choice */
  localAddress?: string;
}

/** A connector over node:net, to IP addresses only. */
export function tcpConnector(options: TcpConnectorOptions = {}): Connector {
  return {
    connect(address, port, timeoutMs) {
      return new Promise((resolve, reject) => {
        const family = isIP(address);
        if (family === 0) return reject(new GuardError(address, 'not an IP address'));
        const socket = netConnect({ host: address, port, family, localAddress: options.localAddress });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new NetTimeout(`no TCP connection to ${address}:${port} within ${timeoutMs} ms`));
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
}

export const netConnector: Connector = tcpConnector();

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
  // A socket whose connection fails after this point must not crash the process either.
  socket.on('error', () => {});
  const peer = socket.remoteAddress;
  if (peer && !sameAddress(peer, address)) {
    socket.destroy();
    throw new GuardError(peer, 'not the address checked', `connected to ${peer}, not the ${address} that was checked`);
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

/** TLS on an existing socket (after STARTTLS/STLS, or on a fresh guarded one for implicit TLS). */
export function tlsHandshake(socket: Socket, opts: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    let tls: TLSSocket;
    try {
      tls = tlsConnect({ ...opts, socket });
    } catch (err) {
      socket.destroy();
      return reject(err);
    }
    const timer = setTimeout(() => {
      tls.destroy();
      reject(new NetTimeout(`no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(tls);
    });
    // Kept after the handshake: whoever reads the socket next adds its own, and until then an
    // error on it has a listener.
    tls.on('error', (err) => {
      clearTimeout(timer);
      tls.destroy();
      reject(err);
    });
    tls.once('close', () => {
      clearTimeout(timer);
      reject(new Error('the connection closed during the TLS handshake'));
    });
  });
}
