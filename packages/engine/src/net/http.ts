/**
 * One guarded HTTP(S) client, for every request the product makes to a host that someone else
 * named: the MTA-STS policy (RFC 8461 3.3) and the worker's webhooks. The host is resolved through
 * the DNS the caller gives (or is an IP literal, IPv6 in brackets included); only addresses the
 * guard allows are connected to, by address; the connected peer is checked again; HTTPS is
 * verified against the trust store (system roots plus --ca-file) for the URL's host name; every
 * step has a timeout and the whole request a deadline; the body kept is capped; redirects are
 * never followed.
 *
 * The HTTP part is undici's, over a socket we open ourselves: its Client takes a `connect`
 * function, so the way to the server (guard, address, peer check, TLS) is ours and plain promise
 * code, and the protocol (headers and body timeouts, response size cap, no redirects, errors as
 * rejections with codes) is a library's. node:https was the other candidate: to pin the address
 * it needs a `lookup` callback, and when that answers synchronously and connect() fails at once,
 * the socket emits 'error' before the request listens to it and the process dies; a custom
 * agent's `createConnection` can avoid that, but the body cap, the header timeout and the
 * deadline would still be ours to write.
 */
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { Client, errors } from 'undici';
import type { DnsClient } from '../dns/audit-dns.js';
import { reservedRange } from './address.js';
import { type Connector, guardedConnect, NetTimeout, netConnector, tlsHandshake } from './connect.js';
import { GuardError, resolveAllowed } from './guard.js';
import type { TrustStore } from './trust.js';

/**
 * Why a request failed. `bad_url`: not an http(s) URL without credentials; `no_address`: the host
 * has no address; `connect`: no TCP connection; `tls`: no verified TLS session; `timeout`: a step
 * or the deadline ran out; `too_large`: the body is larger than allowed; `http`: the server broke
 * HTTP. A refusal of the guard is a GuardError.
 */
export type HttpErrorCode = 'bad_url' | 'no_address' | 'connect' | 'tls' | 'timeout' | 'too_large' | 'http';

export class HttpError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    /** The address tried, when the failure is one address's. */
    readonly address?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface HttpRequest {
  /** `https://host[:port]/path` or `http://…`; the host a name or an IP literal (`[v6]`). */
  url: string;
  /** @default 'GET' */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Deadline of the connections and exchanges, every address tried included (the host's lookups are bounded by the DNS client). @default 10000 */
  timeoutMs?: number;
  /** Per TCP connection and per TLS handshake, within the deadline. @default 5000 */
  connectTimeoutMs?: number;
  /** Largest body kept; a larger one fails with `too_large`. 0: the body is drained, not kept. @default 65536 */
  maxBodyBytes?: number;
  /** Addresses tried, of those the host resolves to and the guard allows. @default 2 */
  maxAddresses?: number;
  /** Whether a response ends the request; one it does not accept lets the next address answer. @default any */
  accept?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The address that answered. */
  address: string;
}

/** How a request reaches its host: through which DNS, and whether the guard lets private addresses through. */
export interface HttpReach {
  dns: DnsClient;
  allowPrivateTargets: boolean;
}

/** What the engine and the worker need of HTTP; tests may pass their own. */
export interface HttpClient {
  /** Rejects with HttpError or GuardError; an HTTP status is an answer, not an error. */
  request(req: HttpRequest, reach: HttpReach): Promise<HttpResponse>;
}

export interface GuardedHttpOptions {
  /** Anchors HTTPS servers are verified against. */
  trust: TrustStore;
  /** Opens the TCP connections (after the guard). @default netConnector */
  connector?: Connector;
}

const DEFAULTS = { timeoutMs: 10_000, connectTimeoutMs: 5000, maxBodyBytes: 64 * 1024, maxAddresses: 2 };

function parseUrl(raw: string): { url: URL; host: string; https: boolean; port: number } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError('bad_url', `${raw} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new HttpError('bad_url', `${raw}: only http and https`);
  if (url.username || url.password) throw new HttpError('bad_url', `${raw}: no credentials in the URL`);
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url, host, https, port: Number(url.port) || (https ? 443 : 80) };
}

/** What an undici or socket error means, as an HttpError (a GuardError or HttpError is kept). */
function classify(err: unknown, address: string, timeoutMs: number): Error {
  if (err instanceof GuardError || err instanceof HttpError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e instanceof errors.ResponseExceededMaxSizeError) {
    return new HttpError('too_large', 'the body is larger than allowed', address, { cause: e });
  }
  if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof NetTimeout) {
    return new HttpError('timeout', e.message, address, { cause: e });
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new HttpError('timeout', `no answer within ${timeoutMs} ms`, address, { cause: e });
  }
  if (e instanceof errors.UndiciError) return new HttpError('http', e.message, address, { cause: e });
  return new HttpError('connect', e?.message ?? String(err), address, { cause: e });
}

export class GuardedHttpClient implements HttpClient {
  private readonly trust: TrustStore;
  private readonly connector: Connector;

  constructor(options: GuardedHttpOptions) {
    this.trust = options.trust;
    this.connector = options.connector ?? netConnector;
  }

  async request(req: HttpRequest, reach: HttpReach): Promise<HttpResponse> {
    const target = parseUrl(req.url);
    const timeoutMs = req.timeoutMs ?? DEFAULTS.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const { all, allowed } = await resolveAllowed(reach.dns, target.host, reach.allowPrivateTargets);
    if (all.length === 0) throw new HttpError('no_address', `${target.host} has no address`);
    if (allowed.length === 0) {
      const first = all[0] as string;
      const range = reservedRange(first) ?? 'reserved';
      throw new GuardError(first, range, `${target.host} resolves only to non-public addresses (${first}: ${range})`);
    }
    const accept = req.accept ?? (() => true);
    let last: { response: HttpResponse } | { error: Error } | undefined;
    for (const address of allowed.slice(0, req.maxAddresses ?? DEFAULTS.maxAddresses)) {
      if (deadline.aborted) break;
      last = await this.exchange(target, address, req, reach, deadline).then(
        (response) => ({ response }),
        (err: unknown) => ({ error: classify(deadline.aborted ? deadline.reason : err, address, timeoutMs) }),
      );
      if ('response' in last && accept(last.response.status)) return last.response;
    }
    if (!last) throw new HttpError('timeout', `no answer within ${timeoutMs} ms`);
    if ('error' in last) throw last.error;
    return last.response;
  }

  /** One request to one address, on a connection of its own. */
  private async exchange(
    target: ReturnType<typeof parseUrl>,
    address: string,
    req: HttpRequest,
    reach: HttpReach,
    deadline: AbortSignal,
  ): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? DEFAULTS.timeoutMs;
    const maxBody = req.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
    const client = new Client(target.url.origin, {
      // undici calls this inside a promise and reports what it passes back: a connection failure is
      // the request's rejection.
      connect: (_options, callback) => {
        this.open(target, address, reach.allowPrivateTargets, req.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs).then(
          (socket) => callback(null, socket),
          (err: Error) => callback(err, null),
        );
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      maxHeaderSize: 16 * 1024,
      ...(maxBody > 0 ? { maxResponseSize: maxBody } : {}),
      pipelining: 1,
    });
    try {
      const res = await client.request({
        path: `${target.url.pathname}${target.url.search}`,
        method: req.method ?? 'GET',
        headers: req.headers ?? {},
        body: req.body ?? null,
        signal: deadline,
      });
      let body = Buffer.alloc(0);
      if (maxBody > 0) body = Buffer.from(await res.body.arrayBuffer());
      else await res.body.dump();
      return { status: res.statusCode, headers: res.headers, body, address };
    } finally {
      await client.destroy().catch(() => {});
    }
  }

  /** The guarded TCP connection to `address`, and TLS on it for https, verified for the URL's host. */
  private async open(
    target: ReturnType<typeof parseUrl>,
    address: string,
    allowPrivateTargets: boolean,
    timeoutMs: number,
  ): Promise<Socket | TLSSocket> {
    const tcp = await guardedConnect(this.connector, address, target.port, timeoutMs, allowPrivateTargets).catch(
      (err: unknown) => {
        throw classify(err, address, timeoutMs);
      },
    );
    if (!target.https) return tcp;
    try {
      return await tlsHandshake(
        tcp,
        {
          secureContext: this.trust.secureContext,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ALPNProtocols: ['http/1.1'],
          // SNI only for a name (RFC 6066 3); the certificate must cover the URL's host either way.
          ...(isIP(target.host) ? {} : { servername: target.host }),
          checkServerIdentity: (_name, cert) => checkServerIdentity(target.host, cert),
        },
        timeoutMs,
      );
    } catch (err) {
      tcp.destroy();
      if (err instanceof NetTimeout) throw new HttpError('timeout', err.message, address, { cause: err });
      throw new HttpError('tls', (err as Error).message, address, { cause: err });
    }
  }
}
