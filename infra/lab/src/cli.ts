/**
 * `npm run lab:up [-- --bulk N]`, `npm run lab:down`, `npm run lab:status`, `npm run lab:scenarios`.
 */
import { down, status, up } from './lab.js';
import { PROBE_CODES } from './model.js';
import { buildModel } from './scenarios.js';

function usage(): never {
  console.error('usage: lab up [--bulk N] | down | status | scenarios');
  process.exit(2);
}

// A closed pipe (`lab:scenarios | head`) is not an error of the lab.
process.stdout.on('error', () => {});

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const log = (line: string) => console.log(line);
  if (command === 'up') {
    let bulk = 0;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--bulk') {
        bulk = Number(rest[++i]);
        if (!Number.isInteger(bulk) || bulk < 0 || bulk > 50_000) {
          console.error('lab: --bulk takes a whole number from 0 to 50000');
          process.exit(2);
        }
      } else usage();
    }
    const lab = await up({ bulk, log });
    console.log(`lab: resolver ${lab.resolver}; CA file ${lab.caFile}`);
    console.log(`lab: try: dig @${lab.resolver.split(':')[0]} +dnssec good.test MX`);
  } else if (command === 'down') {
    const n = await down({ log });
    console.log(n > 0 ? `lab: stopped ${n} processes` : 'lab: nothing was running');
  } else if (command === 'scenarios') {
    for (const s of buildModel().scenarios) {
      const codes = s.expect.map((c) => (PROBE_CODES.has(c) ? `${c}*` : c)).join(', ') || '(none)';
      console.log(`${s.domain.padEnd(32)} ${codes}\n${''.padEnd(32)} ${s.about}`);
    }
    console.log('\n* only with probes (not with --no-probes)');
  } else if (command === 'status') {
    for (const line of status()) console.log(line);
  } else usage();
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
