import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readEnv, toConfig } from '../src/config.js';

describe('API configuration', () => {
  it('fills defaults', () => {
    const c = toConfig(readEnv({ DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' }));
    assert.deepEqual(
      [c.port, c.host, c.publicUrl, c.rateLimitPerMinute, c.redisPrefix, c.databaseSchema],
      [3000, '127.0.0.1', 'http://127.0.0.1:3000', 600, 'mailaudit', 'public'],
    );
  });

  it('refuses what is missing or malformed, saying which variable', () => {
    assert.throws(
      () => toConfig(readEnv({ REDIS_URL: 'redis://x' })),
      (e: Error) => e instanceof ConfigError && /DATABASE_URL/.test(e.message),
    );
    assert.throws(() => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', PORT: 'eighty' })), /PORT/);
    assert.throws(
      () => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', PUBLIC_URL: 'not a url' })),
      /PUBLIC_URL/,
    );
    assert.throws(
      () => toConfig(readEnv({ DATABASE_URL: 'p', REDIS_URL: 'r', DATABASE_SCHEMA: 'x; drop' })),
      /DATABASE_SCHEMA/,
    );
  });
});
