/**
 * `mailaudit serve`: the API process. Stops accepting on SIGTERM/SIGINT and closes its
 * connections once in-flight requests are answered.
 */

import type { Config } from '@mailaudit/config';
import { buildApp } from './app.js';
import { type ApiContext, createContext } from './context.js';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the API; `overrides` as createContext's (`npm start` shares its metrics registry with its worker). */
export async function startApi(
  config: Config,
  overrides: Parameters<typeof createContext>[1] = {},
): Promise<ApiServer & { ctx: ApiContext }> {
  const ctx = createContext(config, overrides);
  const app = await buildApp(ctx);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // A port already taken (EADDRINUSE) ends the process: its connections to Postgres and Redis
    // are closed, so that nothing keeps it alive and a supervisor sees it fail and restarts it.
    await app.close().catch(() => {});
    await ctx.close().catch(() => {});
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    ctx,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}
