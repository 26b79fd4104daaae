/**
 * The command line's own rules (CONTRACT.md section 1): usage errors exit 2 with one line on
 * stderr before any lookup, --help exits 0. Audits themselves are tested against the lab in
 * tests/engine.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from '../src/main.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
}

async function run(args: string[], stdin = '') {
  const out = sink();
  const err = sink();
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: {}, stdin: Readable.from([stdin]) });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('mailaudit usage errors', () => {
  for (const [what, args, pattern] of [
    ['an IP address', ['audit', '192.0.2.1', '--resolver', '127.0.0.1'], /is not a domain: it is an IP address/],
    ['a URL', ['audit', 'https://example.com/', '--resolver', '127.0.0.1'], /looks like a URL/],
    ['an email address', ['audit', 'ops@example.com', '--resolver', '127.0.0.1'], /email address/],
    ['a label too long', ['audit', `${'a'.repeat(64)}.example`, '--resolver', '127.0.0.1'], /longer than 63/],
    ['a name too long', ['audit', `${'abcdefghij.'.repeat(25)}example`, '--resolver', '127.0.0.1'], /the limit is 253/],
    ['a bad label', ['audit', 'ex_ample.com', '--resolver', '127.0.0.1'], /cannot contain "_"/],
    [
      'one bad name among good ones',
      ['audit', 'example.com', 'bad..example', '--resolver', '127.0.0.1'],
      /empty label/,
    ],
    ['an unknown flag', ['audit', 'example.com', '--frobnicate'], /unknown option '--frobnicate'/],
    ['a bad --timeout', ['audit', 'example.com', '--timeout', 'soon'], /--timeout takes a whole number/],
    [
      'a bad --resolver',
      ['audit', 'example.com', '--resolver', 'dns.example'],
      /--resolver: resolver "dns.example" is not an IP/,
    ],
    [
      'an unreadable --ca-file',
      ['audit', 'example.com', '--resolver', '127.0.0.1', '--ca-file', '/nonexistent/ca.pem'],
      /--ca-file: cannot read/,
    ],
    ['no command', [], /say what to do/],
    [
      'check-message without --ip',
      ['check-message', '--helo', 'a.example', '--mail-from', 'b@a.example'],
      /required option '--ip <addr>'/,
    ],
    [
      'check-message with a bad --ip',
      ['check-message', '--ip', 'mail.example', '--helo', 'a.example', '--mail-from', 'b@a.example'],
      /--ip: "mail.example" is not an IP address/,
    ],
    [
      'check-message with a bad --mail-from',
      ['check-message', '--ip', '192.0.2.1', '--helo', 'a.example', '--mail-from', 'nobody', '--resolver', '127.0.0.1'],
      /--mail-from: "nobody" is not an address/,
    ],
    [
      'check-message with an empty message',
      ['check-message', '--ip', '192.0.2.1', '--helo', 'a.example', '--mail-from', '', '--resolver', '127.0.0.1'],
      /the message on standard input is empty/,
    ],
    ['no domain', ['audit'], /missing required argument/],
  ] as const) {
    it(`exits 2 with one line for ${what}`, async () => {
      const r = await run([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.startsWith('mailaudit: '));
    });
  }

  it('--help exits 0 and lists every option of the contract', async () => {
    const r = await run(['audit', '--help']);
    assert.equal(r.code, 0);
    for (const flag of [
      '--json',
      '--resolver',
      '--dkim-selector',
      '--ip-blocklist',
      '--domain-blocklist',
      '--ca-file',
      '--allow-private-targets',
      '--no-probes',
      '--timeout',
      '--concurrency',
    ]) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });
});
