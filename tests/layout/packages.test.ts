/**
 * The rooms of docs/architecture.md: which workspace may depend on which of ours. A package that
 * starts to depend on a room it may not (the engine on the store, a package on a service) fails
 * here, and so does a workspace this table does not know.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** docs/architecture.md, "The rooms": what each may import of ours. */
const MAY_IMPORT: Record<string, string[]> = {
  '@mailaudit/engine': [],
  '@mailaudit/queue': [],
  '@mailaudit/telemetry': [],
  '@mailaudit/catalog': ['@mailaudit/engine'],
  '@mailaudit/render': ['@mailaudit/engine', '@mailaudit/catalog'],
  '@mailaudit/config': ['@mailaudit/engine'],
  '@mailaudit/store': ['@mailaudit/engine', '@mailaudit/render'],
  '@mailaudit/cli': [
    '@mailaudit/engine',
    '@mailaudit/catalog',
    '@mailaudit/render',
    '@mailaudit/config',
    '@mailaudit/store',
    '@mailaudit/api',
    '@mailaudit/worker',
    '@mailaudit/inbound',
  ],
  '@mailaudit/api': [
    '@mailaudit/engine',
    '@mailaudit/catalog',
    '@mailaudit/render',
    '@mailaudit/config',
    '@mailaudit/store',
    '@mailaudit/queue',
    '@mailaudit/telemetry',
  ],
  '@mailaudit/worker': [
    '@mailaudit/engine',
    '@mailaudit/catalog',
    '@mailaudit/render',
    '@mailaudit/config',
    '@mailaudit/store',
    '@mailaudit/queue',
    '@mailaudit/telemetry',
  ],
  '@mailaudit/inbound': [
    '@mailaudit/engine',
    '@mailaudit/config',
    '@mailaudit/store',
    '@mailaudit/queue',
    '@mailaudit/telemetry',
  ],
  '@mailaudit/lab': [],
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function workspaces(): { dir: string; manifest: Manifest }[] {
  const dirs = ['packages', 'services'].flatMap((d) =>
    readdirSync(join(root, d), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(d, e.name)),
  );
  return [...dirs, 'infra/lab'].map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest,
  }));
}

/** The names of ours a workspace's sources import, from its src/ files. */
function importedOfOurs(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/from\s+['"](@mailaudit\/[a-z-]+)/g)) out.add(m[1] as string);
      }
    }
  };
  walk(join(root, dir, 'src'));
  return out;
}

describe('workspace rooms (docs/architecture.md)', () => {
  const all = workspaces();

  it('knows every workspace', () => {
    for (const { manifest } of all) assert.ok(manifest.name in MAY_IMPORT, `${manifest.name} is not in the table`);
  });

  for (const { dir, manifest } of all) {
    it(`${manifest.name} depends and imports only what its room may`, () => {
      const allowed = new Set(MAY_IMPORT[manifest.name] ?? []);
      const declared = Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@mailaudit/'));
      for (const d of declared) assert.ok(allowed.has(d), `${dir}/package.json depends on ${d}`);
      for (const d of importedOfOurs(dir)) {
        if (d === manifest.name) continue;
        assert.ok(allowed.has(d), `${dir}/src imports ${d}`);
        assert.ok(declared.includes(d), `${dir}/src imports ${d} without declaring it in package.json`);
      }
    });
  }
});
