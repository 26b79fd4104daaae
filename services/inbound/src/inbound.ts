/**
 * `mailaudit inbound`: the receiver of test messages as a process of its own, like `serve` and
 * `worker`. Its composition root: one postgres.js instance, the engine's resolver, a producer
 * connection for the tasks queue (webhook deliveries go to the workers), the logger, the SMTP
 * receiver.
 */
import { getServers } from 'node:dns';
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, type InboundSettings } from '@mailaudit/config';
import { type DnsClient, type MessageOptions, Resolver } from '@mailaudit/engine';
import { NOTIFY_JOB_OPTIONS, producerConnection, taskQueue } from '@mailaudit/queue';
import { createSql, type Sql } from '@mailaudit/store';
import { createLogger, type Logger } from '@mailaudit/telemetry';
import { isLiveAddress, processMessage } from './process.js';
import { createReceiver } from './receiver.js';

export type InboundConfig = Config & { inbound: InboundSettings };

export interface InboundOverrides {
  sql?: Sql;
  dns?: DnsClient;
  now?: () => Date;
  log?: Logger;
}

export interface RunningInbound {
  port: number;
  address: string;
  close(): Promise<void>;
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function startInbound(config: InboundConfig, overrides: InboundOverrides = {}): Promise<RunningInbound> {
  const s = config.inbound;
  const log = overrides.log ?? createLogger(config.logLevel, 'inbound');
  const tls = { cert: readPem('INBOUND_TLS_CERT', s.tlsCertFile), key: readPem('INBOUND_TLS_KEY', s.tlsKeyFile) };
  const servers = config.resolvers.length > 0 ? config.resolvers : getServers();
  if (!overrides.dns && servers.length === 0) {
    throw new ConfigError("no resolver: set MAILAUDIT_RESOLVERS (the system's list is empty)");
  }
  const sql = overrides.sql ?? createSql(config.databaseUrl, { schema: config.databaseSchema });
  const resolver = overrides.dns ? undefined : new Resolver({ servers });
  const dns = overrides.dns ?? (resolver as Resolver);
  const now = overrides.now ?? (() => new Date());
  const redis = producerConnection(config.redisUrl);
  redis.on('error', () => {});
  const tasks = taskQueue(redis, config.redisPrefix);
  const options: MessageOptions = {
    allowPrivateTargets: config.allowPrivateTargets,
    authServId: s.hostname,
    timeoutMs: s.analysisTimeoutMs,
    ...(config.ipBlocklists ? { ipBlocklists: config.ipBlocklists } : {}),
  };
  const receiver = createReceiver(
    {
      domain: s.domain,
      hostname: s.hostname,
      tls,
      maxMessageBytes: s.maxMessageBytes,
      maxConnectionsPerAddress: s.maxConnectionsPerAddress,
      maxConnections: s.maxConnections,
      maxRecipients: s.maxRecipients,
      idleTimeoutMs: s.idleTimeoutMs,
      sessionTimeoutMs: s.sessionTimeoutMs,
    },
    {
      isLive: (local) => isLiveAddress({ sql, now }, local),
      accept: async (m) => {
        const rows = await processMessage(
          {
            sql,
            dns,
            now,
            options,
            queueTask: (job) => tasks.add(job.kind, job, NOTIFY_JOB_OPTIONS),
            warn: (msg, extra) => log.warn(extra, msg),
          },
          m,
        );
        for (const r of rows) {
          log.info(
            { messageTestId: r.id, domain: r.domain, ip: m.ip, spf: r.spf, dkim: r.dkim, dmarc: r.dmarc },
            'message test stored',
          );
        }
      },
      onError: (err, context) => log.error({ err: err.message }, `${context} failed`),
    },
  );
  const bound = await receiver.listen(s.port, s.host);
  log.info({ domain: s.domain, address: bound.address, port: bound.port }, 'receiving test messages');
  return {
    ...bound,
    async close() {
      await receiver.close();
      await tasks.close().catch(() => {});
      redis.disconnect();
      resolver?.close();
      if (!overrides.sql) await sql.end({ timeout: 5 });
    },
  };
}
