#!/usr/bin/env node
// `npm run demo`: brings up the lab (real DNS, mail and HTTPS servers on 127.20.0.0/16) and audits
// some of its domains with the mailaudit command, as a person would on a real domain. Nothing
// leaves the machine. Run after `npm run build` (the npm script does both).
import { spawnSync } from 'node:child_process';
import { ensureLab } from '@mailaudit/lab';

const lab = await ensureLab({ log: (l) => console.log(l) });
const domains = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['good.test', 'spf-all-pass.test', 'access-plaintext.test', 'cert-expired.test', 'blocklist-ip.test'];
const args = ['audit', ...domains, '--resolver', lab.resolver, '--allow-private-targets', '--ca-file', lab.caFile];
for (const z of lab.ipBlocklists) args.push('--ip-blocklist', z);
for (const z of lab.domainBlocklists) args.push('--domain-blocklist', z);
console.log(`\n$ mailaudit ${args.join(' ')}\n`);
const r = spawnSync(new URL('../node_modules/.bin/mailaudit', import.meta.url).pathname, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
