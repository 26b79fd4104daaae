/**
 * The resolver's pipelined TCP transport (`transport: 'tcp'`) against a DNS server written in this
 * test: many queries on one connection, answers out of order, split across reads or several in one,
 * spoofed and malformed answers, timeouts, a server that closes the connection with queries
 * outstanding, answers longer than allowed, and a server without TCP (its queries go over UDP).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Packet } from 'dns2';
import { Resolver } from '../src/dns/resolver.js';

const HOST = '127.0.0.1';
let port = 0;
let server: Server;
const sockets = new Set<Socket>();
/** Frames the server read, and in how many reads they came. */
const counts = { frames: 0, reads: 0, connections: 0 };
/** Names whose first query closes the connection (the second is answered). */
const closedOnce = new Set<string>();

function answer(req: Packet, fill: (res: Packet) => void): Buffer {
  const res = Packet.createResponseFromRequest(req);
  (res.header as unknown as { ra: number }).ra = 1;
  fill(res);
  return res.toBuffer();
}

function okAnswer(req: Packet, address = '192.0.2.1'): Buffer {
  return answer(req, (res) => {
    res.answers.push({
      name: req.questions[0]?.name as string,
      type: Packet.TYPE.A,
      class: Packet.CLASS.IN,
      ttl: 60,
      address,
    } as unknown as Packet['answers'][number]);
  });
}

const frame = (msg: Buffer): Buffer => {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
};

/** What the server does with one query on socket `s`; `out` collects what goes back in this read's one write. */
function handle(s: Socket, msg: Buffer, out: Buffer[]): void {
  const req = Packet.parse(msg);
  const name = req.questions[0]?.name ?? '';
  const kind = name.split('.')[0];
  switch (kind) {
    case 'silent':
      return;
    case 'slow':
      // Answered after the queries that follow it: out of order.
      setTimeout(() => s.write(frame(okAnswer(req, '192.0.2.9'))), 60);
      return;
    case 'split': {
      // In three writes, after this read's own write (a frame is never interleaved with another).
      const f = frame(okAnswer(req, '192.0.2.5'));
      setTimeout(() => s.write(f.subarray(0, 1)), 10);
      setTimeout(() => s.write(f.subarray(1, 9)), 20);
      setTimeout(() => s.write(f.subarray(9)), 30);
      return;
    }
    case 'spoofed': {
      const good = okAnswer(req);
      const wrongId = Buffer.from(okAnswer(req, '6.6.6.6'));
      wrongId.writeUInt16BE((good.readUInt16BE(0) + 1) & 0xffff, 0);
      const wrongName = answer(req, (res) => {
        (res.questions[0] as { name: string }).name = 'elsewhere.test';
      });
      out.push(frame(wrongId), frame(wrongName), frame(good));
      return;
    }
    case 'malformed': {
      const good = okAnswer(req);
      out.push(frame(good.subarray(0, good.length - 3)));
      return;
    }
    case 'close':
      if (!closedOnce.has(name)) {
        closedOnce.add(name);
        s.destroy();
        return;
      }
      out.push(frame(okAnswer(req, '192.0.2.7')));
      return;
    case 'huge':
      // Announces an answer of 60,000 octets (more than the resolver under test accepts).
      out.push(Buffer.from([0xea, 0x60, 0, 0]));
      return;
    default:
      out.push(frame(okAnswer(req)));
  }
}

before(async () => {
  server = createServer((s) => {
    counts.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let rest = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      counts.reads++;
      let buf = Buffer.concat([rest, d]);
      const out: Buffer[] = [];
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        counts.frames++;
        handle(s, buf.subarray(2, 2 + buf.readUInt16BE(0)), out);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      rest = buf;
      // Every answer of one read in one write: the client reads several frames at once.
      if (out.length > 0 && !s.destroyed) s.write(Buffer.concat(out));
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  port = (server.address() as { port: number }).port;
});

after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

const resolver = (extra: Partial<ConstructorParameters<typeof Resolver>[0]> = {}) =>
  new Resolver({ servers: [`${HOST}:${port}`], timeoutMs: 300, attempts: 2, transport: 'tcp', ...extra });

describe('resolver over pipelined TCP', () => {
  it('answers 2000 queries issued at once over 4 connections, each correctly, many queries a read', async () => {
    const before = { ...counts };
    const r = resolver({ timeoutMs: 3000 });
    const res = await Promise.all(Array.from({ length: 2000 }, (_, i) => r.query(`ok.n${i}.example.test`, 'A')));
    r.close();
    assert.ok(
      res.every((x, i) => x.status === 'ok' && x.records[0] === '192.0.2.1' && x.name === `ok.n${i}.example.test`),
    );
    assert.equal(r.stats.streamed, 2000);
    assert.equal(r.stats.udpSent, 0);
    assert.equal(counts.frames - before.frames, 2000);
    assert.ok(counts.connections - before.connections <= 4, `${counts.connections - before.connections} connections`);
    // Pipelined: the server read the 2000 queries in far fewer reads (the queries of one turn go in one write).
    assert.ok(counts.reads - before.reads < 200, `${counts.reads - before.reads} reads for 2000 queries`);
  });

  it('matches answers that come out of order and answers split across reads', async () => {
    const r = resolver({ streams: 1 });
    const [slow, fast, split] = await Promise.all([
      r.query('slow.example.test', 'A'),
      r.query('ok.fast.example.test', 'A'),
      r.query('split.example.test', 'A'),
    ]);
    r.close();
    assert.deepEqual(slow.records, ['192.0.2.9']);
    assert.deepEqual(fast.records, ['192.0.2.1']);
    assert.deepEqual(split.records, ['192.0.2.5']);
  });

  it('ignores answers with a wrong ID or question on the connection, keeps the real one', async () => {
    const r = resolver({ streams: 1 });
    const res = await r.query('spoofed.example.test', 'A');
    r.close();
    assert.equal(res.status, 'ok');
    assert.deepEqual(res.records, ['192.0.2.1']);
  });

  it('reports a malformed answer as an error and a silent server as a timeout, never as "no record"', async () => {
    const r = resolver();
    const [malformed, silent] = await Promise.all([
      r.query('malformed.example.test', 'A'),
      r.query('silent.example.test', 'A'),
    ]);
    r.close();
    assert.equal(malformed.status, 'error');
    assert.match(malformed.detail ?? '', /malformed/);
    assert.equal(silent.status, 'timeout');
  });

  it('asks again on a new connection when the server closes one with the query outstanding', async () => {
    const r = resolver({ streams: 1 });
    const [closed, other] = await Promise.all([
      r.query('close.example.test', 'A'),
      r.query('ok.beside.example.test', 'A'),
    ]);
    assert.equal(closed.status, 'ok');
    assert.deepEqual(closed.records, ['192.0.2.7']);
    assert.equal(other.status, 'ok');
    // After an idle close by the server, the next query opens a new connection.
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later = await r.query('ok.later.example.test', 'A');
    r.close();
    assert.equal(later.status, 'ok');
  });

  it('drops a connection that announces an answer longer than allowed: the query fails as an error', async () => {
    const r = resolver({ maxTcpBytes: 4096, attempts: 1 });
    const res = await r.query('huge.example.test', 'A');
    r.close();
    assert.equal(res.status, 'error');
    assert.match(res.detail ?? '', /larger than 4096/);
  });

  it('asks over UDP a server that takes no TCP connection', async () => {
    // A UDP-only server: its port has no TCP listener, so connections are refused.
    const udp = createSocket('udp4');
    udp.on('message', (msg, rinfo) => udp.send(okAnswer(Packet.parse(msg), '192.0.2.3'), rinfo.port, rinfo.address));
    await new Promise<void>((r) => udp.bind(0, HOST, () => r()));
    try {
      const r = new Resolver({
        servers: [`${HOST}:${udp.address().port}`],
        timeoutMs: 500,
        attempts: 2,
        transport: 'tcp',
      });
      const first = await r.query('ok.udp-only.example.test', 'A');
      const second = await r.query('ok.udp-only-2.example.test', 'A');
      r.close();
      assert.equal(first.status, 'ok');
      assert.deepEqual(first.records, ['192.0.2.3']);
      assert.equal(second.status, 'ok');
      // The first query tried TCP once; after the refusal both went over UDP.
      assert.equal(r.stats.streamed, 1);
      assert.equal(r.stats.udpSent, 2);
    } finally {
      udp.close();
    }
  });
});
