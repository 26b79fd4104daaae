/**
 * The service commands of CONTRACT.md section 4: migrate, tenant create, key create (and revoke),
 * serve, worker, inbound, and start (migrations, API, a worker and, with INBOUND_DOMAIN, the
 * receiver of test messages in one process: `npm start`).
 * Configured by environment variables (README, "Configuration").
 */
import { startApi } from '@mailaudit/api';
import { readEnv, toConfig, toDatabaseConfig, toInboundConfig } from '@mailaudit/config';
import { startInbound } from '@mailaudit/inbound';
import {
  createApiKey,
  createSql,
  createTenant,
  ensureSchema,
  getTenant,
  migrate,
  NightlyRunTimeout,
  revokeApiKey,
  SCOPES,
  type Scope,
  type Sql,
  waitForNightlyRun,
} from '@mailaudit/store';
import { createWorkerContext, runNightly, startWorker } from '@mailaudit/worker';
import type { Command } from 'commander';
import type { Io } from './main.js';

export class UsageError extends Error {}

/** Runs `fn` with a one-connection sql of the configured database, closed afterwards. */
async function withDatabase<T>(io: Io, fn: (sql: Sql, schema: string) => Promise<T>): Promise<T> {
  const { databaseUrl, databaseSchema: schema } = toDatabaseConfig(readEnv(io.env));
  const sql = createSql(databaseUrl, { schema, max: 1 });
  try {
    return await fn(sql, schema);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function runMigrations(io: Io, quiet = false): Promise<void> {
  await withDatabase(io, async (sql, schema) => {
    await ensureSchema(sql, schema);
    const applied = await migrate(sql);
    if (!quiet) {
      io.stdout.write(
        applied.length
          ? applied.map((a) => `applied ${String(a.version).padStart(5, '0')}_${a.name}\n`).join('')
          : 'nothing to apply\n',
      );
    }
  });
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
}

export function serviceCommands(program: Command, io: Io, run: (p: Promise<number>) => void): void {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(() => run(runMigrations(io).then(() => 0)));

  const tenant = program.command('tenant').description('tenants');
  tenant
    .command('create')
    .argument('<name>', "the tenant's name")
    .option('--json', 'print {"id": …}')
    .action((name: string, flags: { json?: boolean }) =>
      run(
        (async () => {
          if (name.length < 1 || name.length > 200) throw new UsageError('a tenant name has 1 to 200 characters');
          return withDatabase(io, async (sql) => {
            const t = await createTenant(sql, name);
            io.stdout.write(flags.json ? `${JSON.stringify({ id: t.id })}\n` : `tenant ${t.id} created\n`);
            return 0;
          });
        })(),
      ),
    );

  const key = program.command('key').description('API keys');
  key
    .command('create')
    .requiredOption('--tenant <id>', 'the tenant the key acts for')
    .requiredOption('--scopes <list>', 'comma-separated: read, audit, admin')
    .option('--json', 'print {"id": …, "key": …}')
    .action((flags: { tenant: string; scopes: string; json?: boolean }) =>
      run(
        (async () => {
          const scopes = [
            ...new Set(
              flags.scopes
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            ),
          ];
          const bad = scopes.filter((s) => !SCOPES.includes(s as Scope));
          if (scopes.length === 0 || bad.length)
            throw new UsageError(`--scopes: ${bad.join(', ') || 'none given'}; use read, audit, admin`);
          if (!/^[0-9a-f-]{36}$/i.test(flags.tenant)) throw new UsageError('--tenant: not a tenant id');
          return withDatabase(io, async (sql) => {
            if (!(await getTenant(sql, flags.tenant))) throw new UsageError(`--tenant: no tenant ${flags.tenant}`);
            const k = await createApiKey(sql, flags.tenant, scopes as Scope[]);
            io.stdout.write(
              flags.json
                ? `${JSON.stringify(k)}\n`
                : `key ${k.id}: ${k.key}\n(shown this once; only its hash is stored)\n`,
            );
            return 0;
          });
        })(),
      ),
    );
  key
    .command('revoke')
    .argument('<id>', 'the key id')
    .action((id: string) =>
      run(
        (async () => {
          if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('not a key id');
          return withDatabase(io, async (sql) => {
            const done = await revokeApiKey(sql, id);
            io.stdout.write(done ? `key ${id} revoked\n` : `no active key ${id}\n`);
            return done ? 0 : 1;
          });
        })(),
      ),
    );

  program
    .command('nightly')
    .description('nightly cycles')
    .command('run')
    .description("run a tenant's nightly cycle now (audits, diffs, summary email, webhooks) and exit when it is done")
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--timeout <seconds>', 'give up after this long (default 3600)')
    .option('--force', "mail this night's summaries again to addresses that already got them")
    .action((flags: { tenant: string; timeout?: string; force?: boolean }) =>
      run(
        (async () => {
          if (!/^[0-9a-f-]{36}$/i.test(flags.tenant)) throw new UsageError('--tenant: not a tenant id');
          const seconds = flags.timeout === undefined ? 3600 : Number(flags.timeout);
          if (!Number.isInteger(seconds) || seconds < 1) throw new UsageError('--timeout: a whole number of seconds');
          const w = await startWorker(toConfig(readEnv(io.env)));
          try {
            const { sql } = w.ctx;
            if (!(await getTenant(sql, flags.tenant))) throw new UsageError(`--tenant: no tenant ${flags.tenant}`);
            const r = await runNightly(w.ctx, {
              tenantId: flags.tenant,
              trigger: 'command',
              force: flags.force === true,
            });
            if (!r) throw new Error('the run could not be started');
            // Done when the run is finished and its emails and webhook deliveries are no longer
            // pending: the store announces each change of the run, so this waits without polling.
            const p = await waitForNightlyRun(sql, r.id, seconds * 1000).catch((err: Error) => {
              throw err instanceof NightlyRunTimeout ? new Error(`not done after ${seconds} s (run ${r.id})`) : err;
            });
            io.stdout.write(
              `nightly run ${r.id}: ${p.audits} audits (${p.failedAudits} failed), ${p.sentEmails} emails sent, ${p.failedEmails} failed\n`,
            );
            return 0;
          } finally {
            await w.close();
          }
        })(),
      ),
    );

  program
    .command('serve')
    .description('run the HTTP API')
    .action(() =>
      run(
        (async () => {
          const api = await startApi(toConfig(readEnv(io.env)));
          io.stderr.write(`mailaudit: API listening on ${api.url}\n`);
          await waitForSignal();
          await api.close();
          return 0;
        })(),
      ),
    );

  program
    .command('worker')
    .description('run a worker')
    .action(() =>
      run(
        (async () => {
          // Listening before the worker starts: a job may be taken before startWorker returns.
          const signal = waitForSignal();
          const w = await startWorker(toConfig(readEnv(io.env)));
          await signal;
          await w.close();
          return 0;
        })(),
      ),
    );

  program
    .command('inbound')
    .description('run the SMTP receiver of test messages (INBOUND_DOMAIN)')
    .action(() =>
      run(
        (async () => {
          const inbound = await startInbound(toInboundConfig(readEnv(io.env)));
          io.stderr.write(`mailaudit: receiving test messages on ${inbound.address}:${inbound.port}\n`);
          await waitForSignal();
          await inbound.close();
          return 0;
        })(),
      ),
    );

  program
    .command('start')
    .description('migrations, the API, a worker and (with INBOUND_DOMAIN) the receiver in one process (npm start)')
    .action(() =>
      run(
        (async () => {
          const raw = readEnv(io.env);
          const config = toConfig(raw);
          const inbound = config.inboundDomain ? toInboundConfig(raw) : undefined;
          await runMigrations(io, true);
          // One process, one metrics registry: the API's /metrics shows the worker's audits too.
          const server = await startApi(config);
          // Without PUBLIC_URL the links (in emails, Location headers) are the API's own address,
          // with the port it listens on (PORT=0: the one it got). The API's context holds this
          // same object, so both read it; PUBLIC_URL, when given, wins (and SMTP_URL requires it).
          if (!raw.PUBLIC_URL) config.publicUrl = server.url;
          const w = await startWorker(config, createWorkerContext(config, { metrics: server.ctx.metrics }));
          const receiver = inbound ? await startInbound(inbound) : undefined;
          io.stderr.write(
            `mailaudit: API listening on ${server.url}, worker running${receiver ? `, receiving test messages on ${receiver.address}:${receiver.port}` : ''}\n`,
          );
          await waitForSignal();
          await receiver?.close();
          await server.close();
          await w.close();
          return 0;
        })(),
      ),
    );
}
