/**
 * The pipelined TCP transport against a server that never completes a TCP connection: the lab's
 * `blackhole` host, whose listener's accept queue is full, so that its SYNs go unanswered (as
 * behind a firewall that drops them). The resolver gives up the connection after one query
 * timeout, not the kernel's minutes, and asks that server over UDP from then on.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Resolver } from '@mailaudit/engine';
import { BLACKHOLE_ADDRESS, ensureLab } from '@mailaudit/lab';

before(async () => {
  await ensureLab();
});

describe('resolver over TCP, a server whose connections never open', () => {
  it('gives the connection up after one timeout and goes on over UDP', async () => {
    const r = new Resolver({ servers: [`${BLACKHOLE_ADDRESS}:25`], transport: 'tcp', timeoutMs: 400, attempts: 3 });
    const t0 = performance.now();
    const first = await r.query('good.test', 'A');
    const elapsed = performance.now() - t0;
    const second = await r.query('good.test', 'MX');
    r.close();
    // Nothing answers DNS there: "could not look", never "no record".
    assert.ok(first.status === 'timeout' || first.status === 'error', first.status);
    assert.ok(second.status === 'timeout' || second.status === 'error', second.status);
    // One attempt over TCP, the others over UDP; the whole query within its three attempts' time.
    assert.equal(r.stats.streamed, 1);
    assert.equal(r.stats.udpSent, 5);
    assert.ok(elapsed < 3 * 400 + 500, `${elapsed} ms`);
  });
});
