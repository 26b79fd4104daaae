#!/usr/bin/env node
// The `mailaudit` command. The program is compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';

// Node.js 24 LTS is what the product is built and tested on (the repository pins it as a dev
// dependency, so `npm start`, `npm test` and `npx mailaudit` run it); older majors are end of life.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `mailaudit: Node.js ${process.version} is not supported; it needs Node.js 24 or later ` +
      '(run it through `npx mailaudit` or `npm start` in the repository, which use the pinned Node.js 24)',
  );
  process.exit(1);
}

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('mailaudit: not built yet; run `npm run build` in the repository first');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// A command that failed ends even if a library left a timer or a socket behind (a server that could
// not listen must not linger for its supervisor to think it runs).
if (code !== 0) setTimeout(() => process.exit(code), 3000).unref();
