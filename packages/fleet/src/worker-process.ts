/**
 * Entry point of one fleet worker process (forked with IPC by the {@link Fleet} spawner): one
 * kcl-ts `Worker` with a {@link RecordingProcessor} per shard. It journals what it processes
 * and its lease events, and reports progress over IPC. SIGTERM/SIGINT (or the parent going
 * away) shut the worker down gracefully, then the process exits; SIGKILL and SIGSTOP are what
 * the scenarios use to be less kind. Configuration: `KCL_FLEET_WORKER` (see
 * {@link WorkerProcessConfig}).
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { cpuUsage } from 'node:process';
import { createLocalDynamoDbClient, createLocalKinesisClient, localCredentials } from '@kcl-ts/local';
import { shutdownOnSignals, Worker } from '@kcl-ts/kcl';
import { pino } from 'pino';
import { workerConfigFromEnv, type WorkerProcessConfig } from './config.js';
import { exitFatal, exitGracefully, sendToParent } from './ipc.js';
import { JournalWriter, errorText, leaseShard, shardKey } from './journal.js';
import type { WorkerEventName, WorkerMessage } from './messages.js';
import { RecordingProcessor, type ProcessorStats } from './recording-processor.js';
import { workerOptions } from './worker-options.js';

/** Replaces `client.send` with a pass-through that counts requests per command name. */
function countRequests(client: { send: unknown }, counts: Map<string, number>): void {
  const original = (client.send as (command: unknown, options?: unknown) => Promise<unknown>).bind(client);
  client.send = (command: unknown, options?: unknown): Promise<unknown> => {
    const name = (command as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return original(command, options);
  };
}

/** The process's own clients, counting requests per command into `requests`. */
function countedClients(config: WorkerProcessConfig, requests: Record<'kinesis' | 'dynamoDb', Map<string, number>>): { kinesisClient: KinesisClient; dynamoDbClient: DynamoDBClient } {
  // maxAttempts 1: one layer of retries (the Worker's), as on the clients it builds itself.
  const target = { region: config.region, maxAttempts: 1, ...(config.credentials && { credentials: config.credentials }) };
  const kinesisClient = createLocalKinesisClient({ endpoint: config.kinesisEndpoint, ...target });
  const dynamoDbClient = createLocalDynamoDbClient({ endpoint: config.dynamoDbEndpoint, ...target });
  countRequests(kinesisClient, requests.kinesis);
  countRequests(dynamoDbClient, requests.dynamoDb);
  return { kinesisClient, dynamoDbClient };
}

const send: (message: WorkerMessage, callback?: () => void) => void = sendToParent;

async function main(): Promise<void> {
  const config = workerConfigFromEnv();
  const journal = new JournalWriter(config.journalPath, config.workerId);
  journal.write({ type: 'start' });
  const logger = config.logPath
    ? pino({ level: config.logLevel ?? 'info', base: { pid: process.pid, workerId: config.workerId } }, pino.destination({ dest: config.logPath, sync: true }))
    : pino({ level: 'silent' });
  const requests = { kinesis: new Map<string, number>(), dynamoDb: new Map<string, number>() };
  const clients = config.countRequests ? countedClients(config, requests) : undefined;
  const stats: ProcessorStats = { processed: 0, shards: {} };
  // A multi-stream worker names every shard by (stream, shard): lines carry `stream`, and the
  // shard ids it reports over IPC are `stream/shard` keys.
  const multi = config.streams.length > 1;
  const streamOf = (e: { readonly streamName: string }): { stream?: string } => (multi ? { stream: e.streamName } : {});
  const worker = new Worker(
    workerOptions({
      applicationName: config.applicationName,
      streams: config.streams,
      workerId: config.workerId,
      ...(config.retrieval && { retrieval: config.retrieval }),
      processorFactory: (shardId, shard) =>
        new RecordingProcessor(journal, shardId, { ...config, ...streamOf(shard), stats }),
      // Without counting, the Worker builds its own clients, as an application's `clientConfig` does.
      clients: clients ?? { region: config.region, kinesisEndpoint: config.kinesisEndpoint, dynamoDbEndpoint: config.dynamoDbEndpoint, credentials: localCredentials(config.credentials) },
      logger,
      metricsOff: true,
      ...(config.worker && { tuning: config.worker }),
    }),
  );

  const event = (event: WorkerEventName, shard: { readonly shardId: string; readonly streamName: string } | undefined, line: Parameters<JournalWriter['write']>[number], detail?: string): void => {
    journal.write(line);
    const shardId = shard && shardKey(streamOf(shard).stream, shard.shardId);
    send({ type: 'event', at: Date.now(), event, ...(shardId !== undefined && { shardId }), ...(detail !== undefined && { detail }) });
  };
  const on = (e: { readonly shardId: string; readonly streamName: string }) => ({ shard: e.shardId, ...streamOf(e) });
  worker.on('leaseAcquired', (e) => event('leaseAcquired', e, { type: 'event', event: 'leaseAcquired', ...on(e) }));
  worker.on('leaseLost', (e) => event('leaseLost', e, { type: 'event', event: 'leaseLost', ...on(e), reason: e.reason }, e.reason));
  worker.on('shardEnded', (e) => event('shardEnded', e, { type: 'event', event: 'shardEnded', ...on(e), children: [...e.childShardIds] }, e.childShardIds.join(',')));
  worker.on('processorError', (e) => event('processorError', e, { type: 'processor-error', ...on(e), error: errorText(e.error) }, errorText(e.error)));
  worker.on('error', (error) => event('error', undefined, { type: 'error', error: errorText(error) }, errorText(error)));
  worker.on('roleChanged', ({ role, holder }) => {
    journal.write({ type: 'role', role, ...(holder !== undefined && { holder }) });
    send({ type: 'role', at: Date.now(), role, holder });
  });
  worker.on('stopped', () => journal.write({ type: 'stopped' }));

  const progress = (): void => {
    const memory = process.memoryUsage();
    const cpu = cpuUsage();
    const role = worker.coordinatorRole();
    const held = worker.heldShards().map((k) => (multi ? shardKey(leaseShard(k).stream, leaseShard(k).shard) : k));
    const counts = { kinesis: Object.fromEntries(requests.kinesis), dynamoDb: Object.fromEntries(requests.dynamoDb) };
    send({ type: 'progress', at: Date.now(), held, ...(role && { role: { ...role } }), shards: { ...stats.shards }, processed: stats.processed, requests: counts, rss: memory.rss, heapUsed: memory.heapUsed, cpuUs: cpu.user + cpu.system });
  };
  const ticker = setInterval(progress, config.progressIntervalMs ?? 500);

  const stop = async (): Promise<void> => {
    await worker.shutdown().catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'));
    clearInterval(ticker);
    progress();
    clients?.kinesisClient.destroy();
    clients?.dynamoDbClient.destroy();
  };
  const stopAndExit = exitGracefully(stop, (config.worker?.processing?.shutdownTimeoutMs ?? 30_000) + 10_000);
  // The library helper runs worker.shutdown() on SIGTERM/SIGINT; we add the exit.
  shutdownOnSignals(worker, { exit: false });
  for (const signal of ['SIGTERM', 'SIGINT', 'disconnect'] as const) process.on(signal, () => stopAndExit(0));

  send({ type: 'starting', at: Date.now() });
  try {
    await worker.start();
  } catch (error) {
    journal.write({ type: 'start-failed', error: errorText(error) });
    logger.error({ err: error }, 'worker failed to start');
    send({ type: 'fatal', at: Date.now(), detail: errorText(error) });
    stopAndExit(1);
    return;
  }
  journal.write({ type: 'started' });
  send({ type: 'started', at: Date.now() });
  progress();
}

main().catch((error: unknown) => {
  process.stderr.write(`fleet worker process failed: ${errorText(error)}\n`);
  exitFatal(errorText(error));
});
