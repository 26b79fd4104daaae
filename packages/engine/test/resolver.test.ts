/**
 * The resolver against a DNS server written in this test (UDP and TCP on a loopback port):
 * EDNS DO sent and AD read, truncation retried over TCP, timeouts, rcodes, spoofed and
 * malformed answers, and many queries in flight.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Packet } from 'dns2';
import { Resolver } from '../src/dns/resolver.js';

type Behaviour = (req: Packet, rinfo: RemoteInfo | null) => Buffer | Buffer[] | null;

const HOST = '127.0.0.1';
let udpPort = 0;
let tcpPort = 0;
const seen: { name: string; do: boolean; cd: boolean; tcp: boolean }[] = [];
let udp = createSocket('udp4');
let tcp: Server;

function answer(req: Packet, fill: (res: Packet) => void): Buffer {
  const res = Packet.createResponseFromRequest(req);
  (res.header as unknown as { ra: number }).ra = 1;
  fill(res);
  return res.toBuffer();
}

function a(name: string, address: string): Packet['answers'][number] {
  return {
    name,
    type: Packet.TYPE.A,
    class: Packet.CLASS.IN,
    ttl: 60,
    address,
  } as unknown as Packet['answers'][number];
}

function withRcode(rcode: number): Behaviour {
  return (req) =>
    answer(req, (res) => {
      res.header.rcode = rcode;
    });
}

/** What the test server does, by the first label of the question. */
const behaviours: Record<string, Behaviour> = {
  ok: (req) =>
    answer(req, (res) => {
      (res.header as unknown as { ad: number }).ad = 1;
      res.answers.push(a(req.questions[0]?.name as string, '192.0.2.1'));
    }),
  nxdomain: withRcode(3),
  servfail: withRcode(2),
  refused: withRcode(5),
  nodata: (req) => answer(req, () => {}),
  silent: () => null,
  big: (req, rinfo) =>
    answer(req, (res) => {
      if (rinfo) {
        res.header.tc = 1;
        return;
      }
      for (let i = 0; i < 120; i++) res.answers.push(a(req.questions[0]?.name as string, `192.0.2.${i}`));
    }),
  spoofed: (req) => {
    const good = behaviours.ok?.(req, null) as Buffer;
    const wrongId = Buffer.from(good);
    wrongId.writeUInt16BE((good.readUInt16BE(0) + 1) & 0xffff, 0);
    const wrongName = answer(req, (res) => {
      (res.questions[0] as { name: string }).name = 'elsewhere.test';
      res.answers.push(a('elsewhere.test', '6.6.6.6'));
    });
    return [wrongId, wrongName, good];
  },
  malformed: (req) => {
    const good = behaviours.ok?.(req, null) as Buffer;
    return good.subarray(0, good.length - 3);
  },
  cname: (req) =>
    answer(req, (res) => {
      const name = req.questions[0]?.name as string;
      res.answers.push({
        name,
        type: Packet.TYPE.CNAME,
        class: Packet.CLASS.IN,
        ttl: 60,
        domain: `target.${name}`,
        // dns2's declared answer type has no CNAME field, though its encoder writes `domain`.
      } as Packet['answers'][number]);
      res.answers.push(a(`target.${name}`, '192.0.2.77'));
    }),
};

function handle(msg: Buffer, rinfo: RemoteInfo | null): Buffer[] {
  const req = Packet.parse(msg);
  const q = req.questions[0];
  const opt = req.additionals.find((r) => r.type === Packet.TYPE.EDNS) as { doFlag?: boolean } | undefined;
  seen.push({
    name: q?.name ?? '',
    do: !!opt?.doFlag,
    cd: (req.header as unknown as { cd: number }).cd === 1,
    tcp: rinfo === null,
  });
  const kind = (q?.name ?? '').split('.')[0] as string;
  const out = (behaviours[kind] ?? behaviours.ok)?.(req, rinfo);
  return out === null || out === undefined ? [] : Array.isArray(out) ? out : [out];
}

function onUdp(msg: Buffer, rinfo: RemoteInfo): void {
  for (const b of handle(msg, rinfo)) udp.send(b, rinfo.port, rinfo.address);
}

before(async () => {
  udp.on('message', onUdp);
  tcp = createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < buf.readUInt16BE(0) + 2) return;
      for (const b of handle(buf.subarray(2, 2 + buf.readUInt16BE(0)), null)) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(b.length);
        s.write(Buffer.concat([len, b]));
      }
    });
    s.on('error', () => {});
  });
  // UDP and TCP on one port number: a free UDP port's TCP twin may be taken by another process, so
  // bind again on another port rather than wait for a listen that never calls back.
  for (let attempt = 1; ; attempt++) {
    await new Promise<void>((r) => udp.bind(0, HOST, () => r()));
    udpPort = udp.address().port;
    const listening = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(udpPort, HOST, () => r(true));
    });
    if (listening) break;
    if (attempt >= 20) throw new Error('no port free for both UDP and TCP');
    await new Promise<void>((r) => udp.close(() => r()));
    udp = createSocket('udp4');
    udp.on('message', onUdp);
  }
  tcpPort = udpPort;
});

after(() => {
  udp.close();
  tcp.close();
});

const resolver = () => new Resolver({ servers: [`${HOST}:${udpPort}`], timeoutMs: 300, attempts: 2 });

describe('resolver', () => {
  it('sends EDNS0 with DO, reads AD, and decodes the answer', async () => {
    const r = resolver();
    const res = await r.query('ok.example.test', 'A');
    r.close();
    assert.equal(res.status, 'ok');
    assert.equal(res.ad, true);
    assert.deepEqual(res.records, ['192.0.2.1']);
    assert.ok(seen.some((s) => s.name === 'ok.example.test' && s.do && !s.cd));
    assert.equal(tcpPort, udpPort);
  });

  it('sets CD when asked', async () => {
    const r = resolver();
    await r.query('ok.cd.example.test', 'A', { cd: true });
    r.close();
    assert.ok(seen.some((s) => s.name === 'ok.cd.example.test' && s.cd));
  });

  it('tells NXDOMAIN, NODATA, SERVFAIL, REFUSED and timeout apart', async () => {
    const r = resolver();
    const statuses = await Promise.all(
      ['nxdomain', 'nodata', 'servfail', 'refused', 'silent'].map(
        async (k) => (await r.query(`${k}.example.test`, 'A')).status,
      ),
    );
    r.close();
    assert.deepEqual(statuses, ['nxdomain', 'nodata', 'servfail', 'refused', 'timeout']);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const r = resolver();
    const res = await r.query('big.example.test', 'A');
    r.close();
    assert.equal(res.status, 'ok');
    assert.equal(res.records.length, 120);
    assert.ok(seen.some((s) => s.name === 'big.example.test' && s.tcp));
    assert.equal(r.stats.tcpQueries, 1);
  });

  it('ignores answers with a wrong ID or question, keeps the real one', async () => {
    const r = resolver();
    const res = await r.query('spoofed.example.test', 'A');
    r.close();
    assert.deepEqual(res.records, ['192.0.2.1']);
  });

  it('reports a malformed answer as an error, never as "no record"', async () => {
    const r = resolver();
    const res = await r.query('malformed.example.test', 'A');
    r.close();
    assert.equal(res.status, 'error');
    assert.ok(res.detail);
  });

  it('follows a CNAME chain inside the answer', async () => {
    const r = resolver();
    const res = await r.query('cname.example.test', 'A');
    r.close();
    assert.deepEqual(res.cnames, ['target.cname.example.test']);
    assert.deepEqual(res.records, ['192.0.2.77']);
  });

  it('answers 2000 queries issued at once over 4 sockets, each correctly', async () => {
    const r = new Resolver({ servers: [`${HOST}:${udpPort}`], timeoutMs: 2000, sockets: 4 });
    const res = await Promise.all(Array.from({ length: 2000 }, (_, i) => r.query(`ok.n${i}.example.test`, 'A')));
    r.close();
    assert.ok(res.every((x) => x.status === 'ok' && x.records[0] === '192.0.2.1'));
    assert.equal(r.stats.queries, 2000);
  });

  it('rejects a resolver address that is not an IP', () => {
    assert.throws(() => new Resolver({ servers: ['dns.example.com'] }), /not an IP address/);
    assert.throws(() => new Resolver({ servers: ['127.0.0.1:99999'] }), /bad port/);
  });
});
