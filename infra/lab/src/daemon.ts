/**
 * The lab's own Node servers, in one detached process: SMTP hosts (the smtp-server package),
 * the HTTPS server of MTA-STS policies, a host whose TLS is broken, and a nameserver that never
 * answers. Started by lab.ts with the path of a spec file; writes `<spec>.ready` once listening.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SmtpProfile } from './model.js';

export interface DaemonSpec {
  smtp: { name: string; address: string; address6?: string; profile: SmtpProfile; certFile: string; keyFile: string }[];
  https: { address: string; certFile: string; keyFile: string; policies: Record<string, string> };
  blackhole: string;
}

const MAX_LINE = 4096;
const SLOW_GREETING_MS = 4000;

function listen(server: Server | SMTPServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = server as Server;
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

function smtpServer(h: DaemonSpec['smtp'][number], port: 25 | 465 | 587): SMTPServer {
  const server = new SMTPServer({
    name: h.name,
    banner: 'mailaudit lab',
    secure: port === 465,
    key: readFileSync(h.keyFile),
    cert: readFileSync(h.certFile),
    minVersion: 'TLSv1.2',
    hideSTARTTLS: h.profile === 'nostarttls',
    disabledCommands: ['AUTH'],
    authOptional: true,
    size: 10 * 1024 * 1024,
    logger: false,
    // No reverse lookup of clients: it would ask the system resolver, off the lab.
    disableReverseLookup: true,
    socketTimeout: 30_000,
    onConnect(_session, callback) {
      if (h.profile === 'slow') setTimeout(() => callback(), SLOW_GREETING_MS);
      else callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(new Error('550 the mailaudit lab accepts no mail')));
    },
  });
  server.on('error', (err) => console.error(`smtp ${h.address}:${port}: ${err.message}`));
  return server;
}

/** Port 25 offers STARTTLS and then answers the handshake with plain text; 465 does the same at once. */
function badTlsServer(h: DaemonSpec['smtp'][number], port: 25 | 465): Server {
  return createTcpServer((socket: Socket) => {
    socket.setTimeout(30_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    if (port === 465) {
      socket.end('this is not a TLS server hello\r\n');
      return;
    }
    socket.write(`220 ${h.name} ESMTP mailaudit lab\r\n`);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (buffered.length > MAX_LINE) return socket.destroy();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim().toUpperCase();
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('EHLO')) socket.write(`250-${h.name}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`);
        else if (line.startsWith('HELO')) socket.write(`250 ${h.name}\r\n`);
        else if (line === 'STARTTLS') {
          socket.end('220 2.0.0 Ready to start TLS\r\nthis is not a TLS server hello\r\n');
          return;
        } else if (line === 'QUIT') {
          socket.end('221 2.0.0 Bye\r\n');
          return;
        } else socket.write('502 5.5.2 not in the lab\r\n');
        nl = buffered.indexOf('\n');
      }
    });
  });
}

/** Port 25 that sends one line without end, until the client goes away. */
function endlessServer(): Server {
  const chunk = Buffer.alloc(16 * 1024, 'A');
  return createTcpServer((socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(30_000, () => socket.destroy());
    const pump = () => {
      while (!socket.destroyed && socket.write(chunk)) {}
    };
    socket.on('drain', pump);
    pump();
  });
}

/**
 * The listener of a `blackhole` host: in a process of its own whose event loop blocks once it
 * listens, so that it never accepts. Its accept queue (backlog 1) holds two connections; once
 * they are in, Linux drops every further SYN (the queue is full), so a client's connect times out.
 */
const BLACKHOLE_LISTENER = `
const net = require('node:net');
const fs = require('node:fs');
const [address, ready] = process.argv.slice(1);
const server = net.createServer();
server.on('error', (err) => { console.error('blackhole ' + address + ':25: ' + err.message); process.exit(1); });
server.listen({ port: 25, host: address, backlog: 1 }, () => {
  fs.writeFileSync(ready, String(process.pid));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

/** Whether a TCP connection to address:port completes within `ms`; the socket is kept when it does. */
function tryConnect(address: string, port: number, ms: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, ms);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    });
  });
}

/** Connections that fill blackhole listeners' accept queues: held for the daemon's life. */
const held: Socket[] = [];

/** Starts a `blackhole` port 25 at `address` (a child of the daemon, in its process group) and fills its queue. */
async function blackholeSmtp(address: string, specFile: string): Promise<void> {
  const ready = `${specFile}.blackhole-${address}`;
  rmSync(ready, { force: true });
  const child = spawn(process.execPath, ['-e', BLACKHOLE_LISTENER, address, ready], { stdio: 'inherit' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let i = 0; !existsSync(ready); i++) {
    if (exited || i > 500) throw new Error(`blackhole listener at ${address}:25 did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let i = 0; i < 2; i++) {
    const s = await tryConnect(address, 25, 2000);
    if (!s) throw new Error(`could not fill the queue of the blackhole at ${address}:25`);
    s.on('error', () => {});
    held.push(s);
  }
  // The proof that it drops: a third connection gets no answer.
  const third = await tryConnect(address, 25, 500);
  if (third) {
    third.destroy();
    throw new Error(`the blackhole at ${address}:25 accepted a connection`);
  }
}

async function main(specFile: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as DaemonSpec;
  const starts: Promise<void>[] = [];
  for (const h of spec.smtp) {
    for (const address of [h.address, ...(h.address6 ? [h.address6] : [])]) {
      if (h.profile === 'endless') {
        starts.push(listen(endlessServer(), 25, address));
        continue;
      }
      if (h.profile === 'blackhole') {
        starts.push(blackholeSmtp(address, specFile));
        continue;
      }
      if (h.profile === 'badtls') {
        for (const port of [25, 465] as const) starts.push(listen(badTlsServer(h, port), port, address));
        continue;
      }
      const ports = h.profile === 'good' || h.profile === 'slow' ? ([25, 465, 587] as const) : ([25] as const);
      for (const port of ports) starts.push(listen(smtpServer(h, port), port, address));
    }
  }

  const https = createHttpsServer(
    { key: readFileSync(spec.https.keyFile), cert: readFileSync(spec.https.certFile), minVersion: 'TLSv1.2' },
    (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const body = spec.https.policies[host];
      if (req.url === '/.well-known/mta-sts.txt' && body !== undefined) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    },
  );
  starts.push(listen(https as unknown as Server, 443, spec.https.address));

  // The nameserver of the lame delegation: reads every query, answers none.
  const udp = createSocket('udp4');
  udp.on('message', () => {});
  starts.push(
    new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, spec.blackhole, () => resolve());
    }),
  );
  const tcp = createTcpServer((s) => {
    s.on('data', () => {});
    s.on('error', () => s.destroy());
    s.setTimeout(60_000, () => s.destroy());
  });
  starts.push(listen(tcp, 53, spec.blackhole));

  await Promise.all(starts);
  writeFileSync(`${specFile}.ready`, String(process.pid));
  console.log(`mailaudit lab daemon ${process.pid} listening`);
}

const specFile = process.argv[2];
if (!specFile) {
  console.error('usage: daemon <spec.json>');
  process.exit(2);
}
main(specFile).catch((err: Error) => {
  console.error(`mailaudit lab daemon: ${err.message}`);
  process.exit(1);
});
