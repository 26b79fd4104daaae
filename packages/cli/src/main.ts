/**
 * `mailaudit audit <domain…>` as ../shared/CONTRACT.md section 1 defines it.
 * Exit status: 0 when every audit ran to its end, 2 for a usage error (one line on stderr),
 * 1 for anything else.
 */

import { getServers } from 'node:dns';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ConfigError, DEFAULT_AUDIT_TIMEOUT_MS } from '@mailaudit/config';
import {
  type AuditOptions,
  AuditPool,
  auditDomain,
  DnsCache,
  type DnsTransport,
  InvalidDomainError,
  normalizeDomain,
  parseServer,
  type Report,
  Resolver,
  ResolverHealth,
  TrustStore,
} from '@mailaudit/engine';
import { renderText } from '@mailaudit/render';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkMessageCommand } from './check-message.js';
import { serviceCommands, UsageError } from './service.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Where `check-message` reads the message. @default process.stdin */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

const collect = (value: string, previous: string[]) => [...previous, value];

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`${name} takes a whole number from 1 to ${max}`);
    }
    return Number(value);
  };
}

function transportName(value: string): DnsTransport {
  if (value !== 'udp' && value !== 'tcp') throw new InvalidArgumentError('--dns-transport takes udp or tcp');
  return value;
}

interface AuditFlags {
  json?: boolean;
  resolver: string[];
  dkimSelector: string[];
  ipBlocklist: string[];
  domainBlocklist: string[];
  caFile?: string;
  allowPrivateTargets?: boolean;
  probes: boolean;
  timeout?: number;
  concurrency?: number;
  threads?: number;
  dnsTransport?: DnsTransport;
}

/** Fewer domains than this are audited on the main thread: starting threads would cost more. */
const POOL_FROM = 16;

function zoneName(flag: string, zone: string): string {
  try {
    return normalizeDomain(zone);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/** One line naming the resolvers that failed the control query. */
function noAnswer(failing: string[]): string {
  const list = failing.join(', ');
  return failing.length === 1
    ? `the resolver ${list} does not answer (control query: the root's NS)`
    : `the resolvers ${list} do not answer (control query: the root's NS)`;
}

async function runAudit(domains: string[], flags: AuditFlags, io: Io): Promise<number> {
  // Every name is checked before any audit starts: a typo in the tenth name costs nothing.
  const names = domains.map((d) => {
    try {
      return normalizeDomain(d);
    } catch (err) {
      if (err instanceof InvalidDomainError) throw new UsageError(err.message);
      throw err;
    }
  });
  const servers = flags.resolver.length > 0 ? flags.resolver : getServers();
  if (servers.length === 0) throw new UsageError('no resolver: give --resolver <ip[:port]>');
  for (const s of servers) {
    try {
      parseServer(s);
    } catch (err) {
      throw new UsageError(`--resolver: ${(err as Error).message}`);
    }
  }
  if (flags.caFile) {
    try {
      readFileSync(flags.caFile);
    } catch (err) {
      throw new UsageError(
        `--ca-file: cannot read ${flags.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const options: AuditOptions = {
    allowPrivateTargets: flags.allowPrivateTargets ?? false,
    probes: flags.probes,
    timeoutMs: flags.timeout ?? DEFAULT_AUDIT_TIMEOUT_MS,
  };
  if (flags.dkimSelector.length) options.dkimSelectors = flags.dkimSelector;
  if (flags.ipBlocklist.length) options.ipBlocklists = flags.ipBlocklist.map((z) => zoneName('--ip-blocklist', z));
  if (flags.domainBlocklist.length) {
    options.domainBlocklists = flags.domainBlocklist.map((z) => zoneName('--domain-blocklist', z));
  }

  // Both cores (or all): audits on worker threads, each with its own resolver and caches; a few
  // domains are audited here, on one shared cache.
  const threads = Math.min(flags.threads ?? availableParallelism(), names.length);
  const transport = flags.dnsTransport ?? 'udp';
  const pool =
    threads > 1 && names.length >= POOL_FROM
      ? new AuditPool({
          servers,
          threads,
          control: true,
          dnsTransport: transport,
          ...(flags.caFile ? { caFile: flags.caFile } : {}),
        })
      : undefined;
  const resolver = pool ? undefined : new Resolver({ servers, transport });
  // One cache for every audit of the run: names the domains share are asked once.
  // The control query first: with resolvers that answer nothing, no audit can say anything.
  const health = new ResolverHealth(servers, { now: () => Date.now() });
  const control = await health.check();
  if (!control.ok) {
    await pool?.close();
    resolver?.close();
    io.stderr.write(`mailaudit: ${noAnswer(control.failing)}; no audit was made\n`);
    return 1;
  }
  const dns = resolver ? new DnsCache(resolver) : undefined;
  const trust = pool ? undefined : new TrustStore(flags.caFile);
  const auditOne = async (name: string): Promise<Report | string> => {
    if (pool) return flags.json ? pool.auditJson(name, options) : pool.audit(name, options);
    return auditDomain(name, options, {
      dns: dns as DnsCache,
      now: () => new Date(),
      trust: trust as TrustStore,
      control: health.check,
    });
  };
  const color = !flags.json && io.stdout.isTTY === true && !io.env.NO_COLOR;
  const progress = names.length > 1 && io.stderr.isTTY === true;
  const results: (Report | string | Error | undefined)[] = new Array(names.length);
  let printed = 0;
  let done = 0;
  let failures = 0;
  // NDJSON in the order the domains were given, whatever order the audits end in (CONTRACT 1).
  const flush = () => {
    while (printed < names.length && results[printed] !== undefined) {
      const r = results[printed] as Report | string | Error;
      results[printed] = undefined;
      if (r instanceof Error) {
        failures++;
        io.stderr.write(`mailaudit: ${names[printed]}: ${r.message}\n`);
      } else if (typeof r === 'string' ? r.includes('"outcome":"inconclusive"') : r.outcome === 'inconclusive') {
        // The resolvers failed during the run: no report to print, one line to say why.
        failures++;
        const report = (typeof r === 'string' ? JSON.parse(r) : r) as Report;
        const failing = (report.evidence.control as { failing?: string[] } | undefined)?.failing ?? servers;
        io.stderr.write(`mailaudit: ${names[printed]}: inconclusive: ${noAnswer(failing)}\n`);
      } else if (typeof r === 'string') {
        io.stdout.write(`${r}\n`);
      } else if (flags.json) {
        io.stdout.write(`${JSON.stringify(r)}\n`);
      } else {
        io.stdout.write(`${printed > 0 ? '\n' : ''}${renderText(r, { color })}`);
      }
      printed++;
    }
  };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= names.length) return;
      try {
        results[i] = await auditOne(names[i] as string);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
      done++;
      if (progress) io.stderr.write(`\r\u001b[2Kaudited ${done}/${names.length}`);
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(flags.concurrency ?? 8, names.length) }, worker));
  } finally {
    resolver?.close();
    await pool?.close();
  }
  if (progress) io.stderr.write('\r\u001b[2K');
  return failures > 0 ? 1 : 0;
}

function program(io: Io, run: (p: Promise<number>) => void): Command {
  const p = new Command('mailaudit')
    .description('Audit mail domains: DNS records, mail hosts and blocklists, in one scored report.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: () => {},
    });
  p.command('audit')
    .description('audit one or more domains')
    .argument('<domain...>', 'domains to audit (Unicode names are converted to punycode)')
    .option('--json', 'one report per domain as JSON, one per line (NDJSON)')
    .option(
      '--resolver <ip[:port]>',
      'recursive resolver to ask (repeatable); default: the system resolvers',
      collect,
      [],
    )
    .option(
      '--dkim-selector <name>',
      'DKIM selector to look up (repeatable); default: a list of common selectors',
      collect,
      [],
    )
    .option(
      '--ip-blocklist <zone>',
      'DNSBL zone for mail host addresses (repeatable); replaces the built-in lists',
      collect,
      [],
    )
    .option(
      '--domain-blocklist <zone>',
      'DNSBL zone for the domain (repeatable); replaces the built-in lists',
      collect,
      [],
    )
    .option('--ca-file <pem>', 'extra trust anchors for certificate checks and HTTPS fetches')
    .option('--allow-private-targets', 'treat loopback, private and reserved addresses like public ones')
    .option('--no-probes', 'DNS work only: no connections to mail hosts, no HTTPS fetches')
    .option(
      '--timeout <ms>',
      `deadline for one domain's whole audit (default ${DEFAULT_AUDIT_TIMEOUT_MS})`,
      positiveInt('--timeout', 3_600_000),
    )
    .option('--concurrency <n>', 'domains audited at once (default 8)', positiveInt('--concurrency', 1000))
    .option(
      '--threads <n>',
      `worker threads the audits run on (default: one per core, here ${availableParallelism()}; 1: none)`,
      positiveInt('--threads', 256),
    )
    .option(
      '--dns-transport <udp|tcp>',
      'udp (default), or tcp: queries pipelined over a few TCP connections to each resolver, ' +
        'cheaper for many domains against a resolver of your own',
      transportName,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} })
    .action((domains: string[], flags: AuditFlags) => {
      run(runAudit(domains, flags, io));
    });
  checkMessageCommand(p, io, run, positiveInt);
  serviceCommands(p, io, run);
  for (const c of p.commands) {
    c.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
    for (const sub of c.commands)
      sub.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} });
  }
  return p;
}

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let pending: Promise<number> | undefined;
  try {
    await program(io, (p) => {
      pending = p;
    }).parseAsync(argv, { from: 'user' });
    if (!pending) {
      io.stderr.write('mailaudit: say what to do: mailaudit audit <domain…> (see mailaudit --help)\n');
      return 2;
    }
    return await pending;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') {
        // No command given: commander showed the help as an error.
        io.stderr.write('mailaudit: say what to do: mailaudit audit <domain…> (see mailaudit --help)\n');
        return 2;
      }
      const line = err.message.replace(/^error: /, '').split('\n')[0];
      io.stderr.write(`mailaudit: ${line}\n`);
      return 2;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr.write(`mailaudit: ${(err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    io.stderr.write(`mailaudit: ${(err as Error).message}\n`);
    return 1;
  }
}
