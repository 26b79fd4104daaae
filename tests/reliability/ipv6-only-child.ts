/**
 * Run by ipv6-only.test.ts inside a network namespace that has only `lo`: an authoritative DNS
 * server (dns2) on 127.0.0.1 for a domain whose mail and MTA-STS hosts have only AAAA records, an
 * audit of it through the engine with the worker's dependencies, and a webhook-style request to an
 * IPv6 literal. Every connect fails at once (ENETUNREACH: no route); prints one JSON line.
 */
import type { AddressInfo } from 'node:net';
import { auditDomain, GuardedHttpClient, Resolver, TrustStore } from '@mailaudit/engine';
import dns2 from 'dns2';

const { Packet } = dns2;
const V6 = '2a00:1450:4001:80b::1a';
const zone: Record<string, { type: number; data: Record<string, unknown> }[]> = {
  'v6only.test': [
    { type: Packet.TYPE.MX, data: { exchange: 'mx.v6only.test', priority: 10 } },
    { type: Packet.TYPE.TXT, data: { data: 'v=spf1 mx -all' } },
  ],
  'mx.v6only.test': [{ type: Packet.TYPE.AAAA, data: { address: V6 } }],
  'mta-sts.v6only.test': [{ type: Packet.TYPE.AAAA, data: { address: V6 } }],
  '_mta-sts.v6only.test': [{ type: Packet.TYPE.TXT, data: { data: 'v=STSv1; id=1' } }],
};

const server = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [q] = request.questions;
    const name = (q?.name ?? '').toLowerCase();
    const records = zone[name];
    if (!records) (response.header as { rcode: number }).rcode = 3;
    else
      for (const r of records.filter((x) => x.type === q?.type))
        response.answers.push({ name, type: r.type, class: Packet.CLASS.IN, ttl: 60, ...r.data } as never);
    send(response);
  },
});
const listening = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
const port = (listening.udp as AddressInfo).port;
const dns = new Resolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 1000, attempts: 1 });
const trust = new TrustStore();
const http = new GuardedHttpClient({ trust });
const report = await auditDomain(
  'v6only.test',
  { timeoutMs: 20_000, dkimSelectors: ['s1'], ipBlocklists: [], domainBlocklists: [] },
  { dns, now: () => new Date(), trust, http, probeCache: null },
);
const hook = await http
  .request({ url: `http://[${V6}]/hook`, method: 'POST', body: '{}' }, { dns, allowPrivateTargets: false })
  .then(
    (r) => ({ status: r.status }),
    (e: Error & { code?: string }) => ({ error: e.code ?? e.name, message: e.message }),
  );
console.log(
  JSON.stringify({ schema: report.schema, domain: report.domain, codes: report.findings.map((f) => f.code), hook }),
);
dns.close();
await server.close();
process.exit(0);
