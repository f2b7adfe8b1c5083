import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatEnv, localStackEnv } from '@kcl-ts/local';
import { CliUsageError, formatStackBanner, parseCliArgs } from '../src/cli-args.js';
import { waitFor } from '../../../test-support/stack.js';

describe('parseCliArgs', () => {
  it('parses `up` with every flag', () => {
    expect(
      parseCliArgs(['up', '--kinesis', 'kinesalite', '--kinesis-port', '4567', '--dynamodb-port=4568', '--persist', 'data', '--region', 'eu-west-1']),
    ).toEqual({
      command: 'up',
      options: { kinesis: 'kinesalite', kinesisPort: 4567, dynamoDbPort: 4568, persistence: { directory: 'data' }, region: 'eu-west-1' },
    });
    expect(parseCliArgs(['up'])).toEqual({ command: 'up', options: {} });
  });

  it('recognises --help and -h', () => {
    expect(parseCliArgs(['--help'])).toEqual({ command: 'help' });
    expect(parseCliArgs(['up', '-h'])).toEqual({ command: 'help' });
  });

  it.each([
    [[], /missing command/],
    [['down'], /unknown command "down"/],
    [['up', 'extra'], /unexpected argument "extra"/],
    [['up', '--bogus'], /bogus/],
    [['up', '--kinesis', 'localstack'], /--kinesis must be/],
    [['up', '--kinesis-port', 'abc'], /--kinesis-port/],
    [['up', '--dynamodb-port', '0'], /--dynamodb-port/],
    [['up', '--persist', ''], /--persist/],
  ])('rejects %j with a usage error', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('formatEnv / localStackEnv', () => {
  const env = localStackEnv({
    kinesisEndpoint: 'http://127.0.0.1:1111',
    dynamoDbEndpoint: 'http://127.0.0.1:2222',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  it('exports the SDK and kcl variables', () => {
    expect(env).toEqual({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      KCL_KINESIS_ENDPOINT: 'http://127.0.0.1:1111',
      KCL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:2222',
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:1111',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2222',
    });
  });

  it('formats shell export lines, quoting unsafe values', () => {
    expect(formatEnv({ A: 'http://x:1', B: "it's here", C: '' })).toBe(
      "export A=http://x:1\nexport B='it'\\''s here'\nexport C=''",
    );
    const banner = formatStackBanner({
      kinesisImplementation: 'kinesis-mock',
      kinesisEndpoint: 'http://127.0.0.1:1111',
      dynamoDbEndpoint: 'http://127.0.0.1:2222',
      region: 'us-east-1',
      env,
    });
    expect(banner).toContain('Kinesis (kinesis-mock): http://127.0.0.1:1111');
    expect(banner).toContain('export KCL_DYNAMODB_ENDPOINT=http://127.0.0.1:2222');
  });
});

// The built CLI, when `npx tsc --build packages/local` has produced dist/.
const cliPath = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe.skipIf(!existsSync(cliPath))('kcl-local binary', () => {
  function run(args: string[]) {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, out, exited };
  }

  it('exits 2 with a message on an unknown command', async () => {
    const { out, exited } = run(['sideways']);
    expect(await exited).toBe(2);
    expect(out.stderr).toContain('unknown command "sideways"');
  });

  it('`up` prints the endpoints and exports, then stops cleanly on SIGINT', async () => {
    const { child, out, exited } = run(['up', '--kinesis', 'kinesalite']);
    try {
      await waitFor(() => out.stdout.includes('Press Ctrl-C'), { timeoutMs: 60_000, message: `CLI banner; stderr: ${out.stderr}` });
      expect(out.stdout).toMatch(/Kinesis \(kinesalite\): http:\/\/127\.0\.0\.1:\d+/);
      expect(out.stdout).toMatch(/export KCL_KINESIS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+/);
      expect(out.stdout).toMatch(/export AWS_ENDPOINT_URL_DYNAMODB=http:\/\/127\.0\.0\.1:\d+/);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out.stdout).toContain('stopped');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
