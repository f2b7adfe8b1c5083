import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import { isKclError, MAX_TIMER_DELAY_MS } from '@kcl-ts/processor';
import { ShardDetector } from '@kcl-ts/shard-sync';
import { buildClients, CliError, explainAwsError, type ConnectionFlags } from './aws.js';
import { deregisterConsumer, formatConsumers, listConsumers } from './consumers.js';
import { runDashboard } from './dashboard/command.js';
import { reshard } from './reshard.js';
import { collectStatus, formatStatus } from './status.js';

/** Defaults of `kcl dashboard`'s flags. */
const DASHBOARD_DEFAULTS = { port: 4700, host: '127.0.0.1', intervalMs: 3_000, leaseDurationMs: 10_000 } as const;

const CONNECTION_HELP = `Connection (AWS or any endpoint):
  --region <r>               AWS region (default: $AWS_REGION)
  --endpoint <url>           endpoint for both Kinesis and DynamoDB (e.g. a local stack)
  --kinesis-endpoint <url>   Kinesis endpoint (default: $KCL_KINESIS_ENDPOINT or AWS)
  --dynamodb-endpoint <url>  DynamoDB endpoint (default: $KCL_DYNAMODB_ENDPOINT or AWS)
  Credentials come from the standard AWS chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, instance role).`;

const HELP: Record<string, string> = {
  main: `kcl — operate kcl-ts applications

Usage:
  kcl status --app <name> [--stream <name>] [--json] [--check-expiry <ms>]
  kcl reshard --stream <name> --shards <N>
  kcl consumers list --stream <name> [--json]
  kcl consumers deregister --stream <name> --name <consumer>
  kcl dashboard --app <name> [--stream <name>] [--port <n>]
  kcl <command> --help

The embedded local stack is started with \`kcl-local up\` (package @kcl-ts/local).`,
  status: `kcl status — print an application's lease table

Usage: kcl status --app <name> [options]
  --app <name>            application name (the lease table, unless --table)
  --table <name>          lease table name (default: --app)
  --stream <name>         the stream: adds shard state (open/closed) and lag per shard
  --check-expiry <ms>     scan twice, <ms> apart, and flag leases whose counter did not move
  --json                  machine-readable output
${CONNECTION_HELP}`,
  dashboard: `kcl dashboard — a live web view of an application's leases and shard lineage

Usage: kcl dashboard --app <name> [options]
  --app <name>            application name (the lease table, unless --table)
  --table <name>          lease table name (default: --app)
  --stream <name>         the stream: adds shard states, shards without a lease and the lineage from ListShards
  --port <n>              port to serve on; 0 picks a free one (default: ${DASHBOARD_DEFAULTS.port})
  --host <address>        address to listen on (default: ${DASHBOARD_DEFAULTS.host}; 0.0.0.0 exposes the lease table to the network)
  --interval <ms>         time between two updates while a page is open (default: ${DASHBOARD_DEFAULTS.intervalMs})
  --lease-duration <ms>   the workers' leaseDurationMs, to judge expiry (default: ${DASHBOARD_DEFAULTS.leaseDurationMs})
Reads only: dynamodb:Scan on the table; kinesis:ListShards and kinesis:DescribeStreamSummary with --stream.
Runs until Ctrl-C.
${CONNECTION_HELP}`,
  consumers: `kcl consumers — the enhanced fan-out consumers registered on a stream

Usage:
  kcl consumers list --stream <name> [--json]
  kcl consumers deregister --stream <name> --name <consumer>
A Worker with retrieval.mode 'fanout' registers its consumer (retrieval.fanOut.consumerName, by
default the application name) and never deregisters it; deregister one you no longer use (a stream has at
most 20). Needs kinesis:DescribeStreamSummary, kinesis:ListStreamConsumers and
kinesis:DeregisterStreamConsumer.
${CONNECTION_HELP}`,
  reshard: `kcl reshard — change a stream's shard count (UpdateShardCount, uniform scaling) and wait for ACTIVE

Usage: kcl reshard --stream <name> --shards <N> [options]
${CONNECTION_HELP}`,
};

const CONNECTION_OPTIONS = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'kinesis-endpoint': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function connection(values: Record<string, unknown>): ConnectionFlags {
  const pick = (k: string): string | undefined => values[k] as string | undefined;
  return {
    ...(pick('region') && { region: pick('region') }),
    ...(pick('endpoint') && { endpoint: pick('endpoint') }),
    ...(pick('kinesis-endpoint') && { kinesisEndpoint: pick('kinesis-endpoint') }),
    ...(pick('dynamodb-endpoint') && { dynamodbEndpoint: pick('dynamodb-endpoint') }),
  };
}

/** DynamoDB table names; also the application name when it names the table. */
const TABLE_NAME = { pattern: /^[a-zA-Z0-9_.-]{3,255}$/, rule: '3–255 characters of [a-zA-Z0-9_.-]' };
/** Application names (as the Worker's `applicationName`). */
const APP_NAME = { pattern: /^[a-zA-Z0-9_.-]{1,255}$/, rule: '1–255 characters of [a-zA-Z0-9_.-]' };
/** Kinesis stream names. */
const STREAM_NAME = { pattern: /^[a-zA-Z0-9_.-]{1,128}$/, rule: '1–128 characters of [a-zA-Z0-9_.-]' };
/** Stream consumer names. */
const CONSUMER_NAME = { pattern: /^[a-zA-Z0-9_.-]{1,128}$/, rule: '1–128 characters of [a-zA-Z0-9_.-]' };

/** Rejects a name flag that AWS would reject, as a one-line usage error (exit code 2). */
function checkName(flag: string, value: unknown, name: { pattern: RegExp; rule: string }, note = ''): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !name.pattern.test(value)) {
    throw new CliError(`${flag} must be ${name.rule}${note}, got ${JSON.stringify(value)}`, 2);
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): Record<string, unknown> {
  try {
    return parseArgs({ args, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: false, strict: true }).values as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nRun with --help for usage.`, 2);
  }
}

/** A whole number flag within [min, max], or a one-line usage error (exit code 2). */
function wholeNumber(flag: string, value: unknown, fallback: number, min: number, max: number, unit = ''): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliError(`${flag} must be a whole number${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`, 2);
  return n;
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code. `signal` ends a
 * long-running command (`kcl dashboard`) as Ctrl-C does.
 */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(HELP.main!);
    return command ? 0 : 2;
  }
  if (command === 'status') {
    const v = parse(rest, { app: { type: 'string' }, table: { type: 'string' }, stream: { type: 'string' }, json: { type: 'boolean' }, 'check-expiry': { type: 'string' } });
    if (v.help) return (out(HELP.status!), 0);
    const app = v.app as string | undefined;
    if (!app && !v.table) throw new CliError('kcl status needs --app <name> (or --table <name>)', 2);
    if (v.table === undefined) checkName('--app', app, TABLE_NAME, ' (it names the lease table unless --table is given)');
    else checkName('--app', app, APP_NAME);
    checkName('--table', v.table, TABLE_NAME);
    checkName('--stream', v.stream, STREAM_NAME);
    const table = (v.table as string | undefined) ?? app!;
    const expiry = v['check-expiry'] === undefined ? 0 : Number(v['check-expiry']);
    if (!Number.isInteger(expiry) || expiry < 0 || expiry > MAX_TIMER_DELAY_MS) {
      throw new CliError(`--check-expiry must be a whole number of milliseconds from 0 to ${MAX_TIMER_DELAY_MS}, got ${JSON.stringify(v['check-expiry'])}`, 2);
    }
    const clients = buildClients(connection(v), env);
    try {
      const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: clients.dynamoDb, tableName: table });
      if (!(await refresher.leaseTableExists())) {
        throw new CliError(`lease table "${table}" not found in ${clients.region}${v.endpoint ? ` at ${String(v.endpoint)}` : ''}: check --app/--table (a Worker creates the table when it first starts)`);
      }
      const stream = v.stream as string | undefined;
      const detector = stream ? new ShardDetector({ kinesisClient: clients.kinesis, stream: { streamName: stream } }) : undefined;
      const report = await collectStatus({
        refresher,
        table,
        ...(stream && { stream, kinesis: clients.kinesis, listShards: () => detector!.listShards() }),
        expiryCheckMs: expiry,
      });
      out(v.json ? JSON.stringify(report, null, 2) : formatStatus(report));
      return 0;
    } finally {
      clients.kinesis.destroy();
      clients.dynamoDb.destroy();
    }
  }
  if (command === 'dashboard') {
    const v = parse(rest, {
      app: { type: 'string' },
      table: { type: 'string' },
      stream: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      interval: { type: 'string' },
      'lease-duration': { type: 'string' },
    });
    if (v.help) return (out(HELP.dashboard!), 0);
    const app = v.app as string | undefined;
    if (!app) throw new CliError('kcl dashboard needs --app <name>', 2);
    if (v.table === undefined) checkName('--app', app, TABLE_NAME, ' (it names the lease table unless --table is given)');
    else checkName('--app', app, APP_NAME);
    checkName('--table', v.table, TABLE_NAME);
    checkName('--stream', v.stream, STREAM_NAME);
    const port = wholeNumber('--port', v.port, DASHBOARD_DEFAULTS.port, 0, 65_535);
    const intervalMs = wholeNumber('--interval', v.interval, DASHBOARD_DEFAULTS.intervalMs, 250, 3_600_000, ' of milliseconds');
    const leaseDurationMs = wholeNumber('--lease-duration', v['lease-duration'], DASHBOARD_DEFAULTS.leaseDurationMs, 1, MAX_TIMER_DELAY_MS, ' of milliseconds');
    const host = (v.host as string | undefined) ?? DASHBOARD_DEFAULTS.host;
    if (!/^[a-zA-Z0-9.:[\]-]{1,253}$/.test(host)) throw new CliError(`--host must be an IP address or host name, got ${JSON.stringify(host)}`, 2);
    const clients = buildClients(connection(v), env);
    try {
      await runDashboard({
        kinesis: clients.kinesis,
        dynamoDb: clients.dynamoDb,
        application: app,
        table: (v.table as string | undefined) ?? app,
        ...(v.stream !== undefined && { stream: v.stream as string }),
        host: host.replace(/^\[(.*)\]$/, '$1'),
        port,
        intervalMs,
        leaseDurationMs,
        out,
        err: (line) => process.stderr.write(`${line}\n`),
        ...(signal && { signal }),
      });
      return 0;
    } finally {
      clients.kinesis.destroy();
      clients.dynamoDb.destroy();
    }
  }
  if (command === 'consumers') {
    const [action, ...flags] = rest;
    if (action === undefined || action === '--help' || action === '-h') {
      out(HELP.consumers!);
      return action ? 0 : 2;
    }
    if (action !== 'list' && action !== 'deregister') throw new CliError(`unknown consumers action "${action}": use kcl consumers list|deregister --stream <name>`, 2);
    const v = parse(flags, { stream: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
    if (v.help) return (out(HELP.consumers!), 0);
    if (!v.stream) throw new CliError(`kcl consumers ${action} needs --stream <name>`, 2);
    checkName('--stream', v.stream, STREAM_NAME);
    const stream = v.stream as string;
    if (action === 'list' && v.name !== undefined) throw new CliError('kcl consumers list takes no --name', 2);
    if (action === 'deregister') {
      if (v.name === undefined) throw new CliError('kcl consumers deregister needs --name <consumer>', 2);
      checkName('--name', v.name, CONSUMER_NAME);
      if (v.json) throw new CliError('kcl consumers deregister takes no --json', 2);
    }
    const clients = buildClients(connection(v), env);
    try {
      if (action === 'list') {
        const rows = await listConsumers(clients.kinesis, stream);
        out(v.json ? JSON.stringify({ stream, consumers: rows }, null, 2) : formatConsumers(stream, rows));
      } else {
        await deregisterConsumer(clients.kinesis, stream, v.name as string);
        out(`consumer ${String(v.name)} of stream ${stream}: deregistering (DELETING)`);
      }
      return 0;
    } finally {
      clients.kinesis.destroy();
      clients.dynamoDb.destroy();
    }
  }
  if (command === 'reshard') {
    const v = parse(rest, { stream: { type: 'string' }, shards: { type: 'string' } });
    if (v.help) return (out(HELP.reshard!), 0);
    if (!v.stream) throw new CliError('kcl reshard needs --stream <name>', 2);
    checkName('--stream', v.stream, STREAM_NAME);
    if (v.shards === undefined) throw new CliError('kcl reshard needs --shards <N>', 2);
    const clients = buildClients(connection(v), env);
    try {
      const { from, to } = await reshard(clients.kinesis, v.stream as string, Number(v.shards));
      out(from === to ? `stream ${String(v.stream)} already has ${to} open shards` : `stream ${String(v.stream)}: ${from} → ${to} open shards, ACTIVE`);
      return 0;
    } finally {
      clients.kinesis.destroy();
      clients.dynamoDb.destroy();
    }
  }
  throw new CliError(`unknown command "${command}"\n\n${HELP.main!}`, 2);
}

/** Maps an error to a message and exit code. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const aws = explainAwsError(error);
  if (aws) return { message: aws.message, exitCode: aws.exitCode };
  if (isKclError(error)) return { message: error.message, exitCode: 1 };
  if ((error as { name?: string })?.name === 'ResourceNotFoundException') return { message: (error as Error).message, exitCode: 1 };
  return { message: String((error as Error)?.stack ?? error), exitCode: 1 };
}
