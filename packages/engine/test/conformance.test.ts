/**
 * Other projects' record vectors (fixtures/records/*.json) through the engine's parsers, and the
 * table of docs/conformance.md checked against what is counted here: every vector passes except
 * the deliberate differences listed (with their reasons) in helpers/record-vectors.ts and the
 * document, and a listed one that comes to pass fails, so that neither list goes stale.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { agrees, DELIBERATE, loadRecordSuites } from './helpers/record-vectors.js';
import { loadSpfSuites, runSpfTest, zoneClient } from './helpers/spf-suite.js';

const suites = loadRecordSuites();
const doc = readFileSync(new URL('../../../docs/conformance.md', import.meta.url), 'utf8');

for (const s of suites) {
  describe(`${s.suite} (${s.file})`, () => {
    for (const v of s.vectors) {
      const reason = DELIBERATE[v.id];
      it(`${v.id}: ${JSON.stringify(v.input).slice(0, 80)}${reason ? ' (deliberate difference)' : ''}`, () => {
        const r = agrees(v);
        const got = `${r.got.outcome} ${JSON.stringify(r.got.fields)}${r.got.error ? ` (${r.got.error})` : ''}`;
        if (reason) {
          assert.ok(!r.ok, `${v.id} now agrees with its suite: take it off the deliberate differences (${reason})`);
        } else {
          assert.ok(r.ok, `${v.id}: want ${v.expect} ${JSON.stringify(v.fields ?? {})}, got ${got}`);
        }
      });
    }
  });
}

/** The figures of the table row naming `file` in docs/conformance.md. */
function tableRow(file: string): { vectors: number; passed: number; deliberate: number } {
  const line = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${file}\``));
  assert.ok(line, `docs/conformance.md has no table row for ${file}`);
  const cells = line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
  const [vectors, passed, deliberate] = cells.slice(-3).map(Number) as [number, number, number];
  return { vectors, passed, deliberate };
}

describe('docs/conformance.md', () => {
  it('has each record suite in its table with the figures counted here', () => {
    for (const s of suites) {
      const passed = s.vectors.filter((v) => agrees(v).ok).length;
      const deliberate = s.vectors.filter((v) => DELIBERATE[v.id]).length;
      assert.deepEqual(tableRow(`records/${s.file}`), { vectors: s.vectors.length, passed, deliberate }, s.file);
      assert.equal(passed + deliberate, s.vectors.length, `${s.file}: every vector passes or is a listed difference`);
      assert.match(s.origin.commit, /^[0-9a-f]{40}$/, `${s.file}: origin commit`);
      assert.ok(s.origin.license && s.origin.paths.length > 0, `${s.file}: origin license and paths`);
    }
  });

  it('has each SPF suite in its table with the figures counted here', async () => {
    for (const file of ['rfc7208-tests.json', 'rfc4408-tests.json'] as const) {
      let vectors = 0;
      let passed = 0;
      for (const suite of loadSpfSuites(file).suites) {
        const dns = zoneClient(suite.zonedata);
        for (const t of Object.values(suite.tests)) {
          vectors++;
          if ((await runSpfTest(dns, t)).ok) passed++;
        }
      }
      assert.deepEqual(tableRow(file), { vectors, passed, deliberate: 0 }, file);
    }
  });

  it('lists every deliberate difference, and lists only vectors that exist', () => {
    const ids = new Set(suites.flatMap((s) => s.vectors.map((v) => v.id)));
    for (const id of Object.keys(DELIBERATE)) {
      assert.ok(ids.has(id), `${id} is no vector`);
      const [file, kind, n] = id.split('/') as [string, string, string];
      const named = doc.includes(`\`${id}\``) || new RegExp(`\`${file}/${kind}/\\d+\`[^\\n]*\`${n}\``).test(doc);
      assert.ok(named, `docs/conformance.md does not name ${id}`);
    }
  });
});
