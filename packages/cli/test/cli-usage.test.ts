import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// Usage errors are caught before any client is built or called: no emulator needed. The
// endpoint points nowhere, so a validation that let a bad name through would fail differently.
const env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
const conn = ['--endpoint', 'http://127.0.0.1:9'];

const run = (args: string[]): Promise<{ code: number; out: string }> => runCli(args, env);

describe('kcl CLI usage errors', () => {
  it.each([
    [['status', '--app', 'bad name!'], '--app must be 3–255 characters of [a-zA-Z0-9_.-] (it names the lease table unless --table is given), got "bad name!"'],
    [['status', '--app', 'ab'], '--app must be 3–255 characters of [a-zA-Z0-9_.-] (it names the lease table unless --table is given), got "ab"'],
    [['status', '--app', 'ok-app', '--table', 'bad/table'], '--table must be 3–255 characters of [a-zA-Z0-9_.-], got "bad/table"'],
    [['status', '--app', 'bad app', '--table', 'good-table'], '--app must be 1–255 characters of [a-zA-Z0-9_.-], got "bad app"'],
    [['status', '--app', 'x'.repeat(256)], `--app must be 3–255 characters of [a-zA-Z0-9_.-] (it names the lease table unless --table is given), got "${'x'.repeat(256)}"`],
    [['status', '--app', 'ok-app', '--stream', 'no spaces'], '--stream must be 1–128 characters of [a-zA-Z0-9_.-], got "no spaces"'],
    [['status', '--app', 'line\nbreak'], '--app must be 3–255 characters of [a-zA-Z0-9_.-] (it names the lease table unless --table is given), got "line\\nbreak"'],
    [['status', '--app', 'ok-app', '--check-expiry', '3000000000'], '--check-expiry must be a whole number of milliseconds from 0 to 2147483647, got "3000000000"'],
    [['reshard', '--stream', 'bad name!', '--shards', '2'], '--stream must be 1–128 characters of [a-zA-Z0-9_.-], got "bad name!"'],
  ])('%j prints one line and exits 2', async (args, message) => {
    const { code, out } = await run([...args, ...conn]);
    expect(out).toBe(message);
    expect(out).not.toContain('\n');
    expect(out).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(code).toBe(2);
  });
});
