/**
 * The dialogs of the probes: SMTP (RFC 5321, STARTTLS RFC 3207), IMAP (RFC 9051, STARTTLS and
 * LOGINDISABLED RFC 2595/9051 6.2.1) and POP3 (RFC 1939, CAPA RFC 2449, STLS RFC 2595). They stop at
 * capabilities, STARTTLS/STLS and the handshake: no password is ever sent, and POP3's `USER` is
 * the only login command, to see whether it is accepted before TLS.
 */
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { guardedConnect, NetTimeout, tlsHandshake } from '../net/connect.js';
import { GuardError } from '../net/guard.js';
import { LineReader } from './lines.js';
import { probeStanding } from './stored.js';
import { inspect, legacyTlsOptions, probeTlsOptions } from './tls.js';
import type { MailProtocol, PortProbe, PortResult, PortTarget, ProbeEnv } from './types.js';

const smtpDone = (lines: string[]) => /^\d{3}( |$)/.test(lines.at(-1) as string);
const firstLine = (lines: string[]) => lines.length > 0;
const tagged = (tag: string) => (lines: string[]) => (lines.at(-1) as string).startsWith(`${tag} `);
const popMulti = (lines: string[]) =>
  lines[0]?.startsWith('-ERR') === true || (lines.length > 1 && lines.at(-1) === '.');

function step(env: ProbeEnv, ms: number): number {
  const left = env.remaining();
  if (left < ms) env.onDeadline?.();
  if (left <= 0) throw new NetTimeout('the audit reached its deadline');
  return Math.max(1, Math.min(ms, left));
}

interface Session {
  socket: Socket | TLSSocket;
  reader: LineReader;
}

async function open(env: ProbeEnv, t: PortTarget, legacy: boolean): Promise<Session> {
  const tcp = await guardedConnect(
    env.connector,
    t.address,
    t.port,
    step(env, env.timeouts.connect),
    env.allowPrivateTargets,
  );
  if (t.tlsMode === 'starttls') return { socket: tcp, reader: new LineReader(tcp) };
  const opts = legacy ? legacyTlsOptions(t.host) : probeTlsOptions(t.host);
  try {
    const tls = await tlsHandshake(tcp, opts, step(env, env.timeouts.handshake));
    return { socket: tls, reader: new LineReader(tls) };
  } catch (err) {
    tcp.destroy();
    throw Object.assign(err as Error, { duringHandshake: true });
  }
}

async function upgrade(env: ProbeEnv, t: PortTarget, s: Session, legacy: boolean): Promise<TLSSocket> {
  s.reader.detach();
  const opts = legacy ? legacyTlsOptions(t.host) : probeTlsOptions(t.host);
  const tls = await tlsHandshake(s.socket as Socket, opts, step(env, env.timeouts.handshake)).catch((err: Error) => {
    throw Object.assign(err, { duringHandshake: true });
  });
  s.socket = tls;
  s.reader.reattach(tls);
  return tls;
}

const read = (env: ProbeEnv, s: Session, done: (l: string[]) => boolean) =>
  s.reader.readReply(done, step(env, env.timeouts.read));

async function command(env: ProbeEnv, s: Session, line: string, done: (l: string[]) => boolean): Promise<string[]> {
  s.reader.write(line);
  return read(env, s, done);
}

/** The plain-text part of a dialog up to where TLS starts (or would start). Returns whether TLS may begin. */
async function dialog(env: ProbeEnv, t: PortTarget, s: Session, r: PortResult, wantTls: boolean): Promise<boolean> {
  if (t.protocol === 'smtp') {
    const greet = await read(env, s, smtpDone);
    r.greeting = greet.join(' ').slice(0, 300);
    if (!greet.at(-1)?.startsWith('220')) {
      r.dialog = 'rejected';
      return false;
    }
    let ehlo = await command(env, s, `EHLO ${env.ehloName}`, smtpDone);
    if (!ehlo.at(-1)?.startsWith('250')) ehlo = await command(env, s, `HELO ${env.ehloName}`, smtpDone);
    if (t.tlsMode === 'implicit') return false;
    r.starttls = ehlo.some((l) => /^250[ -]STARTTLS\b/i.test(l));
    if (!r.starttls || !wantTls) return false;
    const go = await command(env, s, 'STARTTLS', smtpDone);
    return go.at(-1)?.startsWith('220') === true;
  }
  if (t.protocol === 'imap') {
    const greet = await read(env, s, firstLine);
    r.greeting = (greet[0] as string).slice(0, 300);
    if (!/^\* (OK|PREAUTH)\b/i.test(greet[0] as string)) {
      r.dialog = 'rejected';
      return false;
    }
    if (t.tlsMode === 'implicit') return false;
    const caps = await command(env, s, 'a1 CAPABILITY', tagged('a1'));
    const line = caps.find((l) => /^\* CAPABILITY /i.test(l)) ?? '';
    const tokens = line.toUpperCase().split(/\s+/);
    r.starttls = tokens.includes('STARTTLS');
    r.loginDisabled = tokens.includes('LOGINDISABLED');
    if (!r.starttls || !wantTls) return false;
    const go = await command(env, s, 'a2 STARTTLS', tagged('a2'));
    return /^a2 OK/i.test(go.at(-1) as string);
  }
  const greet = await read(env, s, firstLine);
  r.greeting = (greet[0] as string).slice(0, 300);
  if (!greet[0]?.startsWith('+OK')) {
    r.dialog = 'rejected';
    return false;
  }
  if (t.tlsMode === 'implicit') return false;
  const capa = await command(env, s, 'CAPA', popMulti);
  if (capa[0]?.startsWith('+OK')) r.starttls = capa.some((l) => /^STLS\b/i.test(l));
  if (!wantTls) {
    // Whether a login name is taken in clear; PASS is never sent.
    const user = await command(env, s, 'USER mailaudit-probe', firstLine);
    r.userAccepted = user[0]?.startsWith('+OK') === true;
    return false;
  }
  if (r.starttls === false) return false;
  const go = await command(env, s, 'STLS', firstLine);
  if (r.starttls === undefined) r.starttls = go[0]?.startsWith('+OK') === true;
  return go[0]?.startsWith('+OK') === true;
}

function quit(s: Session, protocol: MailProtocol): void {
  try {
    s.reader.write(protocol === 'imap' ? 'a9 LOGOUT' : 'QUIT');
  } catch {}
  s.socket.end();
  setTimeout(() => s.socket.destroy(), 200).unref();
}

function classify(err: unknown, r: PortResult, connected: boolean): void {
  const e = err as NodeJS.ErrnoException & { duringHandshake?: boolean };
  r.error = e.message;
  if (e instanceof GuardError) r.state = 'guarded';
  else if (e.duringHandshake) {
    r.state = 'open';
    r.tlsError = e.message;
    // The TLS library's error code (e.g. ERR_SSL_WRONG_VERSION_NUMBER): an identifier, not prose.
    r.tlsErrorCode = e instanceof NetTimeout ? 'timeout' : (e.code ?? 'unknown');
  } else if (!connected) r.state = e.code === 'ECONNREFUSED' ? 'closed' : e instanceof NetTimeout ? 'timeout' : 'error';
  else r.dialog = e instanceof NetTimeout ? 'unresponsive' : 'protocol_error';
  if (r.state === 'error' || r.state === 'guarded') r.errorCode = e.code ?? 'unknown';
}

/**
 * Probes one address and port: the plain dialog, TLS (STARTTLS/STLS or implicit) with the
 * served certificate, and whether TLS 1.0/1.1 is accepted. A result that saw nothing because the
 * audit's deadline cut it short says so (`cut: 'deadline'`).
 */
export async function probePort(env: ProbeEnv, t: PortTarget): Promise<PortProbe> {
  let cut = false;
  const watched: ProbeEnv = {
    ...env,
    onDeadline: () => {
      cut = true;
      env.onDeadline?.();
    },
  };
  const probe = await probeOnce(watched, t);
  if (cut && probeStanding(probe.result, true) === 'audit') probe.result.cut = 'deadline';
  return probe;
}

async function probeOnce(env: ProbeEnv, t: PortTarget): Promise<PortProbe> {
  const r: PortResult = { ...t, state: 'skipped' };
  let served: X509Certificate[] = [];
  if (env.remaining() <= 0) {
    env.onDeadline?.();
    return { result: { ...r, error: 'the audit reached its deadline' }, served };
  }
  // POP3 before TLS: a connection of its own for USER, which may change the session's state.
  if (t.protocol === 'pop3' && t.tlsMode === 'starttls') {
    let s: Session | undefined;
    try {
      s = await open(env, t, false);
      r.state = 'open';
      await dialog(env, t, s, r, false);
      quit(s, t.protocol);
    } catch (err) {
      s?.socket.destroy();
      classify(err, r, r.state === 'open');
      return { result: r, served };
    }
  }
  let s: Session | undefined;
  let connected = false;
  try {
    s = await open(env, t, false);
    connected = true;
    r.state = 'open';
    if (t.tlsMode === 'implicit') {
      const seen = inspect(s.socket as TLSSocket, t.names, env.trust, env.now());
      r.tls = seen.info;
      served = seen.served;
      await dialog(env, t, s, r, false);
    } else if (await dialog(env, t, s, r, true)) {
      const tls = await upgrade(env, t, s, false);
      const seen = inspect(tls, t.names, env.trust, env.now());
      r.tls = seen.info;
      served = seen.served;
    }
    r.dialog ??= 'ok';
    quit(s, t.protocol);
  } catch (err) {
    s?.socket.destroy();
    classify(err, r, connected);
    if (!r.tls) return { result: r, served };
  }
  if (r.tls) r.legacy = await probeLegacy(env, t);
  return { result: r, served };
}

/** A separate connection offering TLS 1.0 and 1.1 only. */
async function probeLegacy(env: ProbeEnv, t: PortTarget): Promise<PortResult['legacy']> {
  let s: Session | undefined;
  try {
    s = await open(env, t, true);
    const scratch: PortResult = { ...t, state: 'open' };
    if (t.tlsMode === 'starttls') {
      if (!(await dialog(env, t, s, scratch, true))) return { accepted: false };
      await upgrade(env, t, s, true);
    }
    const protocol = (s.socket as TLSSocket).getProtocol() ?? undefined;
    quit(s, t.protocol);
    return protocol && /^TLSv1(\.1)?$/.test(protocol) ? { accepted: true, protocol } : { accepted: false };
  } catch {
    // Refused, closed or timed out: TLS 1.0/1.1 not accepted.
    s?.socket.destroy();
    return { accepted: false };
  }
}
