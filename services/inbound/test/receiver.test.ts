/**
 * The receiver's SMTP behaviour with real SMTP clients (nodemailer, raw sockets) on loopback and
 * stub handlers: who may send to what, the size, connection and time limits. STARTTLS with the
 * lab's certificates and the whole path to stored results are in tests/messages.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { createReceiver, type ReceivedMessage, type Receiver } from '../src/receiver.js';

const DOMAIN = 'check.example.net';
const LIVE = 't-abcdefghijklmnopqrst';

function receiver(limits: Parameters<typeof createReceiver>[0] extends infer O ? Partial<O> : never = {}) {
  const received: ReceivedMessage[] = [];
  const errors: string[] = [];
  let failNext = false;
  const r = createReceiver(
    { domain: DOMAIN, hostname: 'inbound.example.net', maxMessageBytes: 20_000, ...limits },
    {
      isLive: async (local) => {
        if (local === 'broken-lookup') throw new Error('database down');
        return local === LIVE;
      },
      accept: async (m) => {
        if (failNext) {
          failNext = false;
          throw new Error('analysis failed');
        }
        received.push(m);
      },
      onError: (err, context) => errors.push(`${context}: ${err.message}`),
    },
  );
  return {
    r,
    received,
    errors,
    failOnce: () => {
      failNext = true;
    },
  };
}

async function start(rec: Receiver) {
  return rec.listen(0, '127.0.0.1');
}

function transport(port: number) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'client.example.org',
    connectionTimeout: 5000,
  });
}

/** A raw SMTP dialog: sends each line after the previous reply, returns every reply line. */
async function dialog(port: number, lines: string[]): Promise<string[]> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  const replies: string[] = [];
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (d: string) => {
    buffer += d;
    let i = buffer.indexOf('\r\n');
    while (i >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      replies.push(line);
      if (/^\d{3} /.test(line)) waiting?.();
      i = buffer.indexOf('\r\n');
    }
  });
  const next = () =>
    new Promise<void>((resolve) => {
      waiting = resolve;
      socket.once('close', () => resolve());
    });
  await next();
  for (const l of lines) {
    socket.write(`${l}\r\n`);
    await next();
  }
  socket.destroy();
  return replies;
}

const rawConnect = (port: number) =>
  new Promise<{ socket: Socket; greeting: string }>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.once('data', (d: string) => resolve({ socket, greeting: d }));
    socket.once('error', reject);
  });

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('inbound receiver', () => {
  const s = receiver();
  let port: number;
  before(async () => {
    port = (await start(s.r)).port;
  });
  after(() => s.r.close());

  it('accepts a message for a live test address and hands it over with the envelope', async () => {
    const info = await transport(port).sendMail({
      envelope: { from: 'bounce@sender.example', to: [`${LIVE.toUpperCase()}@${DOMAIN.toUpperCase()}`] },
      raw: 'From: a@sender.example\r\nTo: x@check.example.net\r\nSubject: hi\r\n\r\nHello\r\n',
    });
    assert.match(info.response, /^250 .*analysed/);
    const m = s.received.at(-1) as ReceivedMessage;
    assert.deepEqual(m.recipients, [LIVE]);
    assert.equal(m.mailFrom, 'bounce@sender.example');
    assert.equal(m.helo, 'client.example.org');
    assert.equal(m.ip, '127.0.0.1');
    assert.equal(m.tls, null, 'no STARTTLS configured: sent in the clear');
    assert.match(m.message.toString(), /^From: a@sender\.example\r\n[\s\S]*Hello\r\n$/);
  });

  it('takes the null reverse-path', async () => {
    await transport(port).sendMail({
      envelope: { from: '', to: [`${LIVE}@${DOMAIN}`] },
      raw: 'From: a@sender.example\r\nSubject: bounce\r\n\r\nx\r\n',
    });
    assert.equal(s.received.at(-1)?.mailFrom, '');
  });

  it('never relays: another domain is refused at RCPT', async () => {
    const replies = await dialog(port, [
      'EHLO client.example.org',
      'MAIL FROM:<a@sender.example>',
      'RCPT TO:<someone@elsewhere.example>',
    ]);
    assert.match(replies.at(-1) as string, /^550 Relaying denied/);
    await assert.rejects(
      transport(port).sendMail({
        envelope: { from: 'a@sender.example', to: ['victim@elsewhere.example'] },
        raw: 'Subject: relay\r\n\r\nx\r\n',
      }),
      (err: { responseCode?: number }) => err.responseCode === 550,
    );
  });

  it('refuses an unknown test address at RCPT, and says 451 when it cannot look', async () => {
    const unknown = await dialog(port, [
      'EHLO c.example',
      'MAIL FROM:<a@s.example>',
      `RCPT TO:<t-nosuchaddress@${DOMAIN}>`,
    ]);
    assert.match(unknown.at(-1) as string, /^550 No such test address/);
    const down = await dialog(port, ['EHLO c.example', 'MAIL FROM:<a@s.example>', `RCPT TO:<broken-lookup@${DOMAIN}>`]);
    assert.match(down.at(-1) as string, /^451 /);
    assert.ok(s.errors.some((e) => e.includes('database down')));
  });

  it('refuses a sender address longer than RFC 5321 allows (smtp-server checks the path length)', async () => {
    const long = `${'a'.repeat(60)}@${['b', 'c', 'd', 'e'].map((c) => c.repeat(60)).join('.')}.example`;
    assert.ok(long.length > 256);
    const replies = await dialog(port, ['EHLO c.example', `MAIL FROM:<${long}>`]);
    assert.match(replies.at(-1) as string, /^501 /);
  });

  it('offers no AUTH and no STARTTLS without a certificate, and announces its size limit', async () => {
    const replies = await dialog(port, ['EHLO c.example']);
    const ehlo = replies.join('\n');
    assert.match(ehlo, /250[- ]SIZE 20000/);
    assert.doesNotMatch(ehlo, /AUTH|STARTTLS/);
    const auth = await dialog(port, ['EHLO c.example', 'AUTH PLAIN AGJvYgBzZWNyZXQ=']);
    assert.match(auth.at(-1) as string, /^50[02] /);
  });

  it('refuses an oversized message with 552 and does not hand it over', async () => {
    const before = s.received.length;
    await assert.rejects(
      transport(port).sendMail({
        envelope: { from: 'a@sender.example', to: [`${LIVE}@${DOMAIN}`] },
        raw: `Subject: big\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(400),
      }),
      (err: { responseCode?: number }) => err.responseCode === 552,
    );
    assert.equal(s.received.length, before);
  });

  it('answers 451 when the analysis fails, so the sender tries again', async () => {
    s.failOnce();
    await assert.rejects(
      transport(port).sendMail({
        envelope: { from: 'a@sender.example', to: [`${LIVE}@${DOMAIN}`] },
        raw: 'Subject: x\r\n\r\nx\r\n',
      }),
      (err: { responseCode?: number }) => err.responseCode === 451,
    );
  });
});

describe('inbound receiver limits', () => {
  it('bounds connections per client address and frees the slot when one closes', async () => {
    const s = receiver({ maxConnectionsPerAddress: 2 });
    const { port } = await start(s.r);
    try {
      const a = await rawConnect(port);
      const b = await rawConnect(port);
      assert.match(a.greeting, /^220 /);
      assert.match(b.greeting, /^220 /);
      const c = await rawConnect(port);
      assert.match(c.greeting, /^421 .*Too many connections/);
      await closed(c.socket);
      assert.equal(s.r.connections().get('127.0.0.1'), 2);
      a.socket.end('QUIT\r\n');
      await closed(a.socket);
      for (let i = 0; i < 50 && s.r.connections().get('127.0.0.1') !== 1; i++)
        await new Promise((r) => setTimeout(r, 20));
      const d = await rawConnect(port);
      assert.match(d.greeting, /^220 /);
      b.socket.destroy();
      d.socket.destroy();
    } finally {
      await s.r.close();
    }
  });

  it('closes a connection that keeps talking past the session deadline', async () => {
    const s = receiver({ sessionTimeoutMs: 300, idleTimeoutMs: 10_000 });
    const { port } = await start(s.r);
    try {
      const { socket } = await rawConnect(port);
      let last = '';
      socket.on('data', (d: string) => {
        last += d;
      });
      // A NOOP every 50 ms keeps it from ever being idle.
      const ticker = setInterval(() => socket.writable && socket.write('NOOP\r\n'), 50);
      await closed(socket);
      clearInterval(ticker);
      assert.match(last, /421 .*time limit/);
    } finally {
      await s.r.close();
    }
  });

  it('drops an idle connection', async () => {
    const s = receiver({ idleTimeoutMs: 200 });
    const { port } = await start(s.r);
    try {
      const { socket } = await rawConnect(port);
      let last = '';
      socket.on('data', (d: string) => {
        last += d;
      });
      await closed(socket);
      assert.match(last, /^421 /);
    } finally {
      await s.r.close();
    }
  });
});
