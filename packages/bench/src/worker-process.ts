/**
 * Entry of every bench child process (forked with IPC; its {@link ChildConfig} arrives as JSON
 * in `KCL_BENCH_CHILD_CONFIG`): a kcl-ts Worker with counting clients whose processor reports
 * what it processed (the fleet benchmarks; the side-by-side ones use `peer-process.ts`).
 * A worker stops gracefully on SIGTERM (through `shutdownOnSignals`) and exits once its last
 * IPC message is flushed.
 * @module
 */
import './quiet-warnings.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, shutdownOnSignals, type ProcessRecordsInput, type ShardRecordProcessor, type WorkerOptions } from '@kcl-ts/kcl';
import { createLocalDynamoDbClient, createLocalKinesisClient } from '@kcl-ts/local';
import { pino } from 'pino';
import { countDynamoDbRequests, countGetRecords } from './counting-clients.js';
import { CHILD_CONFIG_ENV, decodePayload, type ChildConfig, type ChildMessage, type SeenRecord, type WorkerChildConfig } from './messages.js';

function send(message: ChildMessage, callback?: () => void): void {
  if (process.send && process.connected) {
    try {
      process.send(message, undefined, {}, callback ? () => callback() : undefined);
      return;
    } catch {
      // the orchestrator is gone
    }
  }
  callback?.();
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function exitAfterFlush(code: number): void {
  send({ type: 'stopped', at: Date.now() }, () => process.exit(code));
  setTimeout(() => process.exit(code), 2_000).unref();
}

async function runWorker(config: WorkerChildConfig): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { workerId: config.workerId } }, pino.destination({ fd: 1, sync: false }));
  const target = { region: config.region };
  const kinesisClient = createLocalKinesisClient({ endpoint: config.kinesisEndpoint, ...target });
  const dynamoDbClient = createLocalDynamoDbClient({ endpoint: config.dynamoDbEndpoint, ...target });
  const getRecords = countGetRecords(kinesisClient);
  const dynamoDbRequests = countDynamoDbRequests(dynamoDbClient);
  let processed = 0;
  let firstRecordAt = 0;
  let doneSent = false;
  let startAt = 0;

  const processor = (shardId: string): ShardRecordProcessor => ({
    initialize: () => undefined,
    async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
      const at = Date.now();
      if (config.report === 'records') {
        const seen: SeenRecord[] = [];
        for (const r of records) {
          const p = decodePayload(r.data);
          if (p) seen.push([p.k, p.n, p.t]);
        }
        send({ type: 'batch', shardId, at, count: records.length, records: seen });
      } else {
        send({ type: 'batch', shardId, at, count: records.length });
      }
      processed += records.length;
      if (firstRecordAt === 0 && records.length > 0) firstRecordAt = at;
      if (config.batchDelayMs) await sleep(config.batchDelayMs);
      if (config.checkpoint) await checkpointer.checkpoint();
      if (!doneSent && config.expectedRecords !== undefined && processed >= config.expectedRecords) {
        doneSent = true;
        send({ type: 'done', startAt, firstRecordAt, lastRecordAt: Date.now(), records: processed });
      }
    },
    async shardEnded({ checkpointer }) {
      await checkpointer.checkpoint();
    },
    async shutdownRequested({ checkpointer }) {
      if (config.checkpoint) await checkpointer.checkpoint();
    },
    leaseLost: () => undefined,
  });

  // The tuning is the lease group, plus where to start.
  const { initialPosition, ...leases } = config.options;
  const worker = new Worker({
    applicationName: config.applicationName,
    streamName: config.streamName,
    processorFactory: processor,
    kinesisClient,
    dynamoDbClient,
    workerId: config.workerId,
    logger,
    metrics: { publisher: false },
    initialPosition: initialPosition as WorkerOptions['initialPosition'],
    leases,
  });
  worker.on('leaseAcquired', ({ shardId }) => send({ type: 'lease', shardId, at: Date.now(), event: 'acquired' }));
  worker.on('leaseLost', ({ shardId, reason }) => send({ type: 'lease', shardId, at: Date.now(), event: 'lost', reason }));
  worker.on('error', (error) => send({ type: 'error', at: Date.now(), detail: describe(error) }));
  worker.on('processorError', ({ error }) => send({ type: 'error', at: Date.now(), detail: `processor: ${describe(error)}` }));

  const stats = (): void => {
    const memory = process.memoryUsage();
    send({ type: 'stats', at: Date.now(), held: worker.heldShards(), getRecords: Object.fromEntries(getRecords), dynamoDb: Object.fromEntries(dynamoDbRequests), rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, arrayBuffers: memory.arrayBuffers, processed });
  };
  const ticker = setInterval(stats, config.statsIntervalMs);

  let exiting = false;
  const finish = (code: number): void => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(code === 0 ? 1 : code), 40_000).unref();
    worker
      .shutdown()
      .catch((error: unknown) => send({ type: 'error', at: Date.now(), detail: `shutdown: ${describe(error)}` }))
      .finally(() => {
        clearInterval(ticker);
        stats();
        kinesisClient.destroy();
        dynamoDbClient.destroy();
        logger.flush();
        exitAfterFlush(code);
      });
  };
  // The library's helper runs worker.shutdown() on SIGTERM; the exit waits for the IPC flush.
  shutdownOnSignals(worker, { exit: false });
  process.on('SIGTERM', () => finish(0));
  process.on('disconnect', () => finish(0));

  startAt = Date.now();
  send({ type: 'starting', at: startAt });
  try {
    await worker.start();
  } catch (error) {
    send({ type: 'fatal', at: Date.now(), detail: describe(error) });
    finish(1);
    return;
  }
  send({ type: 'started', at: Date.now() });
  stats();
}

async function main(): Promise<void> {
  const raw = process.env[CHILD_CONFIG_ENV];
  if (!raw) throw new Error(`${CHILD_CONFIG_ENV} is not set: this script is started by the bench (dist/main.js)`);
  const config = JSON.parse(raw) as ChildConfig;
  if (config.mode === 'worker') await runWorker(config);
  else throw new Error(`worker-process does not run mode ${config.mode} (peer-process does)`);
}

main().catch((error: unknown) => {
  send({ type: 'fatal', at: Date.now(), detail: describe(error) }, () => process.exit(1));
  setTimeout(() => process.exit(1), 2_000).unref();
});
