/**
 * The engine's rooms and what each may import (README.md, Layout), read from the sources with
 * TypeScript's own import scanner: no import circle anywhere (type-only imports count), and no
 * import against the direction of the rooms (probes/ never imports checks/, net/ never imports
 * probes/ or checks/, dns/ imports neither).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Each source file (relative to src/) and the source files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const local = importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(SRC, resolve(dirname(file), name.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), local);
  }
  return graph;
}

/** Every import circle, each as the path that closes it. */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

const room = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : '.');

/** Rooms a room must not import. */
const FORBIDDEN: Record<string, string[]> = {
  dns: ['checks', 'probes', 'net'],
  net: ['checks', 'probes'],
  probes: ['checks'],
};

describe('engine import structure', () => {
  const graph = importGraph();

  it('reads every source file and resolves every relative import to one', () => {
    assert.ok(graph.size > 30, `${graph.size} files`);
    for (const [file, imports] of graph) {
      for (const target of imports)
        assert.ok(graph.has(target), `${file} imports ${target}, which is not a source file`);
    }
  });

  it('has no import circle', () => {
    assert.deepEqual(
      circles(graph).map((c) => c.join(' -> ')),
      [],
    );
  });

  it('imports only in the direction of the rooms', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        if (FORBIDDEN[room(file)]?.includes(room(target))) wrong.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('catches a circle and a wrong-way import when there is one', () => {
    const bad = new Map([
      ['probes/a.ts', ['checks/b.ts']],
      ['checks/b.ts', ['probes/a.ts']],
    ]);
    assert.deepEqual(circles(bad), [['checks/b.ts', 'probes/a.ts', 'checks/b.ts']]);
    assert.ok(FORBIDDEN[room('probes/a.ts')]?.includes(room('checks/b.ts')));
  });
});
