/**
 * Benchmarks of test messages, against the lab:
 * 1. the analysis alone (analyzeMessage: mailauth's SPF, DKIM, DMARC, ARC, BIMI plus iprev, HELO,
 *    blocklists) of one DKIM-signed message, N times with C at once, through the lab's resolver;
 * 2. the whole path: N messages sent over SMTP with STARTTLS, C connections at once from four lab
 *    addresses, into `mailaudit inbound`, analysed and stored in Postgres (a schema of its own).
 *   npm run bench:messages [-- --messages N --concurrency C]
 */
import { readFileSync } from 'node:fs';
import { readEnv, toInboundConfig } from '@mailaudit/config';
import { analyzeMessage, Resolver } from '@mailaudit/engine';
import { startInbound } from '@mailaudit/inbound';
import {
  ensureLab,
  INBOUND_ADDRESS,
  INBOUND_DOMAIN,
  INBOUND_HOST,
  SENDER_DOMAIN,
  SENDER_KEY,
  SENDER_SELECTOR,
  SENDERS,
  signingKeyFile,
} from '@mailaudit/lab';
import nodemailer from 'nodemailer';
import { createTestService, inboundEnv } from '../service/setup.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const count = arg('messages', 500);
const concurrency = arg('concurrency', 16);
const lab = await ensureLab();

async function compose(to: string): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await t.sendMail({
    from: `alice@${SENDER_DOMAIN}`,
    to,
    subject: 'benchmark',
    text: `${'A line of a typical short message body.\n'.repeat(40)}`,
    dkim: {
      domainName: SENDER_DOMAIN,
      keySelector: SENDER_SELECTOR,
      privateKey: readFileSync(signingKeyFile(SENDER_KEY), 'utf8'),
    },
  });
  return info.message as Buffer;
}

async function run(label: string, n: number, c: number, one: (i: number) => Promise<void>): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = performance.now();
        await one(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number).toFixed(1);
  console.log(
    `${label}: ${n} messages in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} messages/s, ` +
      `latency p50 ${pct(0.5)} ms p95 ${pct(0.95)} ms p99 ${pct(0.99)} ms, ` +
      `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (+${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)})`,
  );
}

// 1. The analysis alone.
const message = await compose(`t-benchmarkbenchmark@${INBOUND_DOMAIN}`);
const resolver = new Resolver({ servers: [lab.resolver] });
let failed = 0;
await run(`analysis alone, ${message.length} bytes, concurrency ${concurrency}`, count, concurrency, async () => {
  const r = await analyzeMessage(
    { message, ip: SENDERS.authorized.address, helo: SENDERS.authorized.helo, mailFrom: `b@${SENDER_DOMAIN}` },
    { allowPrivateTargets: true, ipBlocklists: lab.ipBlocklists },
    { dns: resolver, now: () => new Date() },
  );
  if (r.dmarc.result !== 'pass') failed++;
});
console.log(`  DNS queries ${resolver.stats.queries}, analyses not passing DMARC: ${failed}`);
resolver.close();

// 2. The whole path: SMTP + STARTTLS + analysis + Postgres.
const svc = await createTestService(lab);
const tenant = await svc.tenant('bench');
const key = await tenant.key();
await svc.app.inject({
  method: 'PUT',
  url: `/v1/domains/${SENDER_DOMAIN}`,
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  payload: '{}',
});
const inbound = await startInbound(
  toInboundConfig(
    readEnv({
      ...inboundEnv(svc, lab),
      // A connection is counted until the server has seen it close: room for the next one to start first.
      INBOUND_MAX_CONNECTIONS_PER_IP: String(concurrency),
      MAILAUDIT_IP_BLOCKLISTS: lab.ipBlocklists.join(','),
    }),
  ),
);
const addresses: string[] = [];
for (let i = 0; i < Math.ceil(count / 20); i++) {
  const r = await svc.app.inject({
    method: 'POST',
    url: `/v1/domains/${SENDER_DOMAIN}/test-address`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: '{}',
  });
  addresses.push(r.json().address as string);
}
const senders = [SENDERS.authorized, SENDERS.unlisted, SENDERS.esp, SENDERS.listed];
const ca = readFileSync(lab.caFile);
const n2 = Math.min(count, 200);
await run(
  `SMTP + STARTTLS + analysis + store, one connection per message, concurrency ${concurrency}`,
  n2,
  concurrency,
  async (i) => {
    const sender = senders[i % senders.length] as (typeof senders)[number];
    const transport = nodemailer.createTransport({
      host: INBOUND_ADDRESS,
      port: inbound.port,
      name: sender.helo,
      localAddress: sender.address,
      requireTLS: true,
      tls: { ca, servername: INBOUND_HOST },
    });
    await transport.sendMail({
      envelope: { from: `b@${SENDER_DOMAIN}`, to: [addresses[Math.floor(i / 20)] as string] },
      raw: message,
    });
    transport.close();
  },
);
const [stored] = await svc.sql<{ n: number }[]>`select count(*)::int as n from message_tests`;
const [inside] = await svc.sql<{ p50: number; p95: number }[]>`
  select percentile_cont(0.5) within group (order by (result->>'durationMs')::int) as p50,
         percentile_cont(0.95) within group (order by (result->>'durationMs')::int) as p95
  from message_tests`;
console.log(
  `  message tests stored: ${stored?.n}; the analysis inside the receiver took p50 ${Math.round(inside?.p50 ?? 0)} ms, p95 ${Math.round(inside?.p95 ?? 0)} ms ` +
    '(the rest is the SMTP dialog, both TLS handshakes and the client, all in this one process)',
);
await inbound.close();
await svc.close();
