/**
 * Runs the real `mailaudit` command (node_modules/.bin/mailaudit, built by `npm run build`;
 * scripts/test.mjs builds before testing) and collects its output.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}node_modules/.bin/mailaudit`;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `input`: what the command reads on standard input (closed at once without it). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: Buffer | string): Promise<CliRun> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
  });
}
