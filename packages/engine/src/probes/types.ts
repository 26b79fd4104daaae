/**
 * What the probes work on and hand back: the environment they run in, the (address, port) targets,
 * and each target's result.
 */
import type { X509Certificate } from 'node:crypto';
import type { Connector } from '../net/connect.js';
import type { TrustStore } from '../net/trust.js';
import type { TlsInfo } from './tls.js';

export type MailProtocol = 'smtp' | 'imap' | 'pop3';

export interface ProbeEnv {
  connector: Connector;
  allowPrivateTargets: boolean;
  trust: TrustStore;
  now: () => Date;
  /** Milliseconds left before the audit's deadline. */
  remaining: () => number;
  /** @default { connect: 5000, read: 10000, handshake: 10000 } */
  timeouts: { connect: number; read: number; handshake: number };
  /** Name given in EHLO. */
  ehloName: string;
  /**
   * Called when the audit's deadline cut a step's timeout short (or left no time at all): what the
   * probe then failed to see is this audit's lack of time, not the server's doing, and is not
   * shared with other audits.
   */
  onDeadline?: () => void;
}

export interface PortTarget {
  /** The name used for SNI and in subjects: the first name that led to the address. */
  host: string;
  /** Every name that led to the address (a certificate covering any of them is accepted). */
  names: string[];
  address: string;
  port: number;
  protocol: MailProtocol;
  tlsMode: 'starttls' | 'implicit';
}

/** What a probe found, as plain data: findings and the report's evidence are made of it. */
export interface PortResult extends PortTarget {
  /** TCP: `open` connected; `closed` refused; `timeout` no answer; `guarded` refused by the guard; `error` other. */
  state: 'open' | 'closed' | 'timeout' | 'guarded' | 'error' | 'skipped';
  /** After connecting: `ok`, or how the server misbehaved. */
  dialog?: 'ok' | 'unresponsive' | 'protocol_error' | 'rejected';
  error?: string;
  /** With `error` and state `error` or `guarded`: the system's error code (ENETUNREACH, EADDRNOTAVAIL…, EGUARD). */
  errorCode?: string;
  greeting?: string;
  /** STARTTLS (SMTP, IMAP) or STLS (POP3) offered before TLS. */
  starttls?: boolean;
  loginDisabled?: boolean;
  userAccepted?: boolean;
  tls?: TlsInfo;
  tlsError?: string;
  /** Why the handshake failed, as a code: `timeout`, or the TLS library's error code. */
  tlsErrorCode?: string;
  legacy?: { accepted: boolean; protocol?: string };
  /**
   * Set when what the probe failed to see is our audit's doing, not the server's: `deadline`, the
   * audit's deadline cut a step short (or left no time to start); `wait`, the time went in waiting
   * for a connection slot at the address (the per-address limit) or for another process's probe of
   * it. Such a result is never shared and says nothing about the server.
   */
  cut?: 'deadline' | 'wait';
  /**
   * On a port-25 timeout only: when the process that probed last saw a port-25 connection to
   * another address of the same family succeed (ISO time, within its egress window, probes/egress.ts).
   * Without it a timeout may be this machine's outbound port 25 being blocked, and is not counted
   * as the server's.
   */
  egressSeenAt?: string;
}

/**
 * One probe: its result, and the certificate chain the server served (leaf first; empty without
 * TLS) as objects, for DANE and name coverage. Only `result` goes into the report's evidence.
 */
export interface PortProbe {
  result: PortResult;
  served: X509Certificate[];
}
