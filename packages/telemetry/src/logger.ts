/**
 * The one log format of every process (the API's fastify logs through it too): pino's JSON lines
 * on stderr, the time in ISO 8601, the level by name, the process (`service`) in each line. Stdout
 * stays for what a command prints.
 */
import { hostname } from 'node:os';
import { type Logger, pino } from 'pino';

export type { Logger };

/** pino's levels, and `silent`. */
export type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: Level, service: 'api' | 'worker' | 'inbound' | 'cli'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, hostname: hostname(), service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}
