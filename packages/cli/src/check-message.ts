/**
 * `mailaudit check-message --ip <addr> --helo <name> --mail-from <addr> < message.eml`: the
 * analysis of a received message (the one `mailaudit inbound` runs) on a saved one, with the
 * audit's options where they apply. `--json` prints the `mailaudit.message/1` result on one line.
 * Exit status as for `audit`: 0 when the analysis ran, whatever it found; 2 for a usage error;
 * 1 otherwise.
 */
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import {
  analyzeMessage,
  InvalidDomainError,
  type MessageInput,
  type MessageOptions,
  normalizeDomain,
  parseServer,
  Resolver,
} from '@mailaudit/engine';
import { renderMessageText } from '@mailaudit/render';
import type { Command } from 'commander';
import type { Io } from './main.js';
import { UsageError } from './service.js';

/** Largest message read from standard input. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

export interface CheckMessageFlags {
  ip: string;
  helo: string;
  mailFrom: string;
  domain?: string;
  json?: boolean;
  resolver: string[];
  ipBlocklist: string[];
  allowPrivateTargets?: boolean;
  timeout?: number;
}

async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw new UsageError(`the message on standard input is larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

function zone(flag: string, value: string): string {
  try {
    return normalizeDomain(value);
  } catch (err) {
    if (err instanceof InvalidDomainError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

export async function runCheckMessage(flags: CheckMessageFlags, io: Io): Promise<number> {
  const ip = flags.ip.replace(/^\[|\]$/g, '');
  if (isIP(ip) === 0) throw new UsageError(`--ip: ${JSON.stringify(flags.ip)} is not an IP address`);
  const helo = flags.helo.trim();
  if (!helo || /\s/.test(helo)) throw new UsageError('--helo: give the name the client sent in HELO/EHLO');
  const mailFrom = flags.mailFrom.trim().replace(/^<|>$/g, '');
  if (mailFrom !== '' && (!mailFrom.includes('@') || /\s/.test(mailFrom))) {
    throw new UsageError(
      `--mail-from: ${JSON.stringify(flags.mailFrom)} is not an address (give '' for the null sender)`,
    );
  }
  const servers = flags.resolver.length > 0 ? flags.resolver : getServers();
  if (servers.length === 0) throw new UsageError('no resolver: give --resolver <ip[:port]>');
  for (const s of servers) {
    try {
      parseServer(s);
    } catch (err) {
      throw new UsageError(`--resolver: ${(err as Error).message}`);
    }
  }
  const stdin = io.stdin ?? process.stdin;
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError('give the message on standard input: mailaudit check-message … < message.eml');
  }
  const input: MessageInput = { message: await readAll(stdin, MAX_MESSAGE_BYTES), ip, helo, mailFrom };
  if (input.message.length === 0) throw new UsageError('the message on standard input is empty');
  if (flags.domain) input.domain = zone('--domain', flags.domain);
  const options: MessageOptions = {
    allowPrivateTargets: flags.allowPrivateTargets ?? false,
    timeoutMs: flags.timeout ?? 30_000,
  };
  if (flags.ipBlocklist.length) options.ipBlocklists = flags.ipBlocklist.map((z) => zone('--ip-blocklist', z));

  const resolver = new Resolver({ servers });
  try {
    const report = await analyzeMessage(input, options, { dns: resolver, now: () => new Date() });
    if (flags.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else io.stdout.write(renderMessageText(report, { color: io.stdout.isTTY === true && !io.env.NO_COLOR }));
    return 0;
  } finally {
    resolver.close();
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function checkMessageCommand(
  program: Command,
  io: Io,
  run: (p: Promise<number>) => void,
  positiveInt: (name: string, max: number) => (value: string) => number,
): void {
  program
    .command('check-message')
    .description('analyse a saved message (on standard input) as the inbound receiver would')
    .requiredOption('--ip <addr>', 'address of the SMTP client that sent the message')
    .requiredOption('--helo <name>', 'name the client gave in HELO/EHLO')
    .requiredOption('--mail-from <addr>', "MAIL FROM address ('' for the null sender)")
    .option('--domain <name>', 'the domain the message was sent to test (reports a From of another domain)')
    .option('--json', 'the result as JSON on one line')
    .option(
      '--resolver <ip[:port]>',
      'recursive resolver to ask (repeatable); default: the system resolvers',
      collect,
      [],
    )
    .option(
      '--ip-blocklist <zone>',
      'DNSBL zone for the sending address (repeatable); replaces the built-in lists',
      collect,
      [],
    )
    .option(
      '--allow-private-targets',
      'look up the PTR and blocklist entries of loopback, private and reserved senders',
    )
    .option('--timeout <ms>', 'deadline of the analysis (default 30000)', positiveInt('--timeout', 3_600_000))
    .action((flags: CheckMessageFlags) => {
      run(runCheckMessage(flags, io));
    });
}
