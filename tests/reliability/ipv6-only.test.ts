/**
 * Issue 12 item 1: on an IPv4-only network (here a network namespace with only `lo`, made by the
 * test, so nothing can leave the machine), a domain whose mail and MTA-STS hosts are IPv6-only makes
 * every connect fail at once (ENETUNREACH). The audit must finish with a report, the MTA-STS fetch
 * and a webhook-style request to an IPv6 literal must fail as errors, and the process must live on
 * (it died with "Unhandled 'error' event" before the guarded HTTP client).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/cli.js';

const run = promisify(execFile);
const NS = `mailaudit-v6-${randomBytes(3).toString('hex')}`;

before(async () => {
  await run('ip', ['netns', 'add', NS]);
  await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});
after(async () => {
  await run('ip', ['netns', 'del', NS]).catch(() => {});
});

describe('IPv6-only hosts on an IPv4-only network', () => {
  it('the audit finishes with a report; the MTA-STS fetch and the webhook request fail as errors', async () => {
    const { stdout } = await run(
      'ip',
      [
        'netns',
        'exec',
        NS,
        process.execPath,
        '--conditions=source',
        '--import',
        'tsx',
        'tests/reliability/ipv6-only-child.ts',
      ],
      { cwd: ROOT, timeout: 120_000 },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      schema: string;
      domain: string;
      codes: string[];
      hook: { error?: string; message?: string };
    };
    assert.equal(out.schema, 'mailaudit.report/1');
    assert.equal(out.domain, 'v6only.test');
    assert.ok(out.codes.includes('mta_sts.policy.unreachable'), out.codes.join(', '));
    assert.equal(out.hook.error, 'connect');
    assert.match(out.hook.message ?? '', /ENETUNREACH/);
  });
});
