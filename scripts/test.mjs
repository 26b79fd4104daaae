#!/usr/bin/env node
// Runs the test suite with Node's own runner on the TypeScript sources (through tsx, with the
// "source" export condition so that workspace packages resolve to src/, not dist/).
// Node 20 has no glob support in --test, so the files are listed here.
//   node scripts/test.mjs            every test: unit tests and integration tests (lab, Postgres, Redis)
//   node scripts/test.mjs --unit     unit tests only (packages/*/test, services/*/test)
//   node scripts/test.mjs FILE...    the given files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function find(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (e.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const given = args.filter((a) => !a.startsWith('--'));
const files = given.length
  ? given
  : [
      ...find(join(root, 'packages')),
      ...find(join(root, 'services')),
      ...find(join(root, 'infra')),
      ...(unitOnly ? [] : find(join(root, 'tests'))),
    ].sort();

if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The command-line tests run the built `mailaudit`: bring dist/ up to date first (incremental).
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

const result = spawnSync(
  process.execPath,
  // One file at a time: integration files share the lab, and one of them switches a lab domain's
  // records for a while (tests/service/nightly.test.ts).
  ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
