/**
 * The lab's bookkeeping: ensureLab reuses a running lab instead of restarting it, every recorded
 * process runs as its own process group with a command line naming the lab directory (what
 * `lab:down` checks before it signals anything), and status lists each one running.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ensureLab, isUp, status } from '@mailaudit/lab';

describe('lab lifecycle', () => {
  it('reuses a running lab: same processes, no restart', async () => {
    const first = await ensureLab();
    const t0 = Date.now();
    const second = await ensureLab();
    assert.ok(Date.now() - t0 < 2000, 'a second ensureLab should not rebuild the lab');
    assert.deepEqual(second.state.processes, first.state.processes);
    assert.equal(second.state.startedAt, first.state.startedAt);
    assert.equal(isUp(), true);
  });

  it('records each process as its own group, naming the lab directory', async () => {
    const lab = await ensureLab();
    const names = lab.state.processes.map((p) => p.name);
    for (const n of ['knot', 'unbound', 'daemon']) assert.ok(names.includes(n), n);
    const dovecots = lab.model.hosts.filter((h) => h.access).length;
    assert.equal(names.filter((n) => n.startsWith('dovecot-')).length, dovecots);
    for (const p of lab.state.processes) {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      assert.equal(pgrp, p.pid, `${p.name} leads its own process group`);
      assert.ok(readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(lab.dir), `${p.name} names ${lab.dir}`);
    }
    const lines = status();
    assert.equal(lines.filter((l) => l.includes(' running')).length, lab.state.processes.length);
  });
});
