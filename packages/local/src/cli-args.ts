import { parseArgs } from 'node:util';
import type { LocalStack } from './stack.js';
import { formatEnv } from './env.js';
import type { LocalStackOptions } from './options.js';

/** The usage text of `kcl-local`. */
export const CLI_USAGE = `Usage: kcl-local up [options]

Starts a local Kinesis emulator and dynalite (DynamoDB) on 127.0.0.1, prints their
endpoints and the environment to export, and runs until Ctrl-C (SIGINT) or SIGTERM.

Options:
  --kinesis <impl>        kinesis-mock (default) or kinesalite
  --kinesis-port <port>   Kinesis port (default: a free port)
  --dynamodb-port <port>  DynamoDB port (default: a free port)
  --persist <dir>         keep data in <dir> between runs (default: in memory)
  --region <region>       region for the exported environment (default: us-east-1)
  -h, --help              show this help
`;

/** A command line that could not be understood; the CLI exits with code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** What the command line asks for. */
export type CliCommand = { readonly command: 'help' } | { readonly command: 'up'; readonly options: LocalStackOptions };

function parsePort(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65_535) {
    throw new CliUsageError(`${flag} must be a port between 1 and 65535, got "${value}"`);
  }
  return Number(value);
}

/** Parses the arguments after `kcl-local` (i.e. `process.argv.slice(2)`). Throws {@link CliUsageError}. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        kinesis: { type: 'string' },
        'kinesis-port': { type: 'string' },
        'dynamodb-port': { type: 'string' },
        persist: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (positionals.length === 0) throw new CliUsageError('missing command (expected "up")');
  const [command, ...rest] = positionals;
  if (command !== 'up') throw new CliUsageError(`unknown command "${command}" (expected "up")`);
  if (rest.length > 0) throw new CliUsageError(`unexpected argument "${rest[0]}"`);

  const kinesis = values.kinesis;
  if (kinesis !== undefined && kinesis !== 'kinesis-mock' && kinesis !== 'kinesalite') {
    throw new CliUsageError(`--kinesis must be kinesis-mock or kinesalite, got "${kinesis}"`);
  }
  if (values.persist !== undefined && values.persist.length === 0) {
    throw new CliUsageError('--persist needs a directory');
  }
  const kinesisPort = parsePort('--kinesis-port', values['kinesis-port']);
  const dynamoDbPort = parsePort('--dynamodb-port', values['dynamodb-port']);
  const options: LocalStackOptions = {
    ...(kinesis !== undefined ? { kinesis } : {}),
    ...(kinesisPort !== undefined ? { kinesisPort } : {}),
    ...(dynamoDbPort !== undefined ? { dynamoDbPort } : {}),
    ...(values.persist !== undefined ? { persistence: { directory: values.persist } } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
  };
  return { command: 'up', options };
}

/** The text `kcl-local up` prints once the stack is ready. */
export function formatStackBanner(stack: Pick<LocalStack, 'kinesisImplementation' | 'kinesisEndpoint' | 'dynamoDbEndpoint' | 'region' | 'env'>): string {
  return [
    `Kinesis (${stack.kinesisImplementation}): ${stack.kinesisEndpoint}`,
    `DynamoDB (dynalite): ${stack.dynamoDbEndpoint}`,
    `Region: ${stack.region}`,
    '',
    '# Point your shell at the local stack:',
    formatEnv(stack.env),
    '',
    'Press Ctrl-C to stop.',
  ].join('\n');
}
