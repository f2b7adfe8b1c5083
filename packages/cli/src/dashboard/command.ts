/**
 * `kcl dashboard`: wires the AWS clients to a {@link LeaseTableSource}, serves it with
 * {@link startDashboardServer}, prints the URL and runs until Ctrl-C (SIGINT), SIGTERM or the
 * given signal, then stops the server cleanly. Flag parsing stays in `main.ts`, with the other
 * commands'.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import { ShardDetector } from '@kcl-ts/shard-sync';
import { CliError } from '../aws.js';
import { startDashboardServer } from './server.js';
import { describeStreamSummary, LeaseTableSource, message } from './source.js';

/** What `kcl dashboard` runs with, after its flags were checked. */
export interface DashboardCommandInput {
  readonly kinesis: KinesisClient;
  readonly dynamoDb: DynamoDBClient;
  readonly application: string;
  readonly table: string;
  readonly stream?: string;
  readonly host: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly leaseDurationMs: number;
  /** Prints a line to stdout. */
  readonly out: (line: string) => void;
  /** Prints a line to stderr (poll failures). */
  readonly err: (line: string) => void;
  /** Stops the dashboard, besides SIGINT and SIGTERM. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the dashboard until stopped. The first update is made before the server starts, so a
 * wrong table or stream name fails at once (exit code 1) instead of on the page.
 */
export async function runDashboard(input: DashboardCommandInput): Promise<void> {
  const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: input.dynamoDb, tableName: input.table });
  const stream = input.stream;
  const detector = stream ? new ShardDetector({ kinesisClient: input.kinesis, stream: { streamName: stream } }) : undefined;
  const source = new LeaseTableSource({
    application: input.application,
    table: input.table,
    refresher,
    leaseDurationMs: input.leaseDurationMs,
    ...(stream && detector && {
      stream,
      listShards: (signal?: AbortSignal) => detector.listShards(signal),
      describeStream: (signal?: AbortSignal) => describeStreamSummary(input.kinesis, stream, signal),
    }),
  });
  const first = await source.poll();
  source.reset();
  const server = await startDashboardServer({
    source,
    host: input.host,
    port: input.port,
    intervalMs: input.intervalMs,
    onPollError: (error) => input.err(`kcl dashboard: update failed: ${message(error)}`),
  }).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${input.port} on ${input.host} is in use: pass --port <n>, or --port 0 for a free port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`cannot listen on --host ${input.host}: ${message(error)}`, 2);
    throw error;
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    // A second Ctrl-C while stopping exits at once.
    if (signals > 1) process.exit(130);
    stop.abort();
  };
  const onAbort = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  input.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const what = `${first.shards.length} shard(s)${first.invalid.length ? `, ${first.invalid.length} invalid item(s)` : ''}`;
    input.out(`kcl dashboard for ${input.application} (table ${input.table}${stream ? `, stream ${stream}` : ''}: ${what}): ${server.url}`);
    if (server.url.includes('0.0.0.0') || server.url.includes('[::]')) input.out('listening on every interface: anyone who reaches this port can read the lease table');
    input.out('Press Ctrl-C to stop.');
    if (input.signal?.aborted) stop.abort();
    if (!stop.signal.aborted) await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    input.signal?.removeEventListener('abort', onAbort);
    await server.stop();
  }
}
