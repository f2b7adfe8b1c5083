// One member of the demo fleet: a real OS process running a kcl-ts Worker. The orchestrator
// forks it with IPC; its configuration arrives as JSON in KCL_DEMO_WORKER_CONFIG. It
// journals every processed record before checkpointing, reports progress and events over IPC,
// and stops gracefully on SIGTERM (or when the orchestrator goes away).
import {
  Worker,
  shutdownOnSignals,
  type InitializationInput,
  type KinesisClientRecord,
  type ProcessRecordsInput,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShutdownRequestedInput,
} from '@kcl-ts/kcl';
import { createLocalDynamoDbClient, createLocalKinesisClient } from '@kcl-ts/local';
import { pino } from 'pino';
import { journalPath, JournalWriter, type RecordEntry } from './journal.js';
import { WORKER_CONFIG_ENV, type ShardProgress, type WorkerMessage, type WorkerProcessConfig } from './messages.js';
import { decodePayload } from './producer.js';

/** Shared state of the processors of this process. */
interface ProcessContext {
  readonly workerId: string;
  readonly journal: JournalWriter;
  readonly stats: Map<string, { records: number; lagMs: number | undefined }>;
  send(message: WorkerMessage): void;
}

/** Journals each batch, then checkpoints it. One instance per shard lease. */
class JournalingProcessor implements ShardRecordProcessor {
  constructor(
    private readonly shardId: string,
    private readonly ctx: ProcessContext,
  ) {}

  initialize(_input: InitializationInput): void {
    if (!this.ctx.stats.has(this.shardId)) this.ctx.stats.set(this.shardId, { records: 0, lagMs: undefined });
  }

  async processRecords({ records, checkpointer, millisBehindLatest }: ProcessRecordsInput): Promise<void> {
    const { workerId, journal, stats } = this.ctx;
    const processedAt = Date.now();
    const entries: RecordEntry[] = records.map((r: KinesisClientRecord) => {
      const payload = decodePayload(r.data);
      return {
        type: 'record',
        worker: workerId,
        shard: this.shardId,
        key: payload?.k ?? r.partitionKey,
        n: payload?.n ?? -1,
        seq: r.sequenceNumber,
        ...(r.subSequenceNumber !== undefined && { subSeq: r.subSequenceNumber }),
        processedAt,
        putAt: payload?.t ?? r.approximateArrivalTimestamp.getTime(),
      };
    });
    // Durable (as far as a SIGKILL is concerned) before the checkpoint moves past these records.
    journal.append(entries);
    const stat = stats.get(this.shardId) ?? { records: 0, lagMs: undefined };
    stat.records += records.length;
    stat.lagMs = millisBehindLatest;
    stats.set(this.shardId, stat);
    const last = records[records.length - 1];
    if (!last) return;
    try {
      await checkpointer.checkpoint();
      journal.append([
        {
          type: 'checkpoint',
          worker: workerId,
          shard: this.shardId,
          seq: last.sequenceNumber,
          ...(last.subSequenceNumber !== undefined && { subSeq: last.subSequenceNumber }),
          at: Date.now(),
        },
      ]);
    } catch (error) {
      // The records are journaled; the next batch's checkpoint covers them. If the lease is
      // gone, the new owner resumes from the previous checkpoint (at-least-once).
      this.ctx.send({ type: 'event', workerId, at: Date.now(), event: 'checkpointFailed', shardId: this.shardId, detail: describeError(error) });
    }
  }

  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    this.ctx.journal.append([{ type: 'end', worker: this.ctx.workerId, shard: this.shardId, endedAt: Date.now() }]);
    await checkpointer.checkpoint();
  }

  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    try {
      await checkpointer.checkpoint();
    } catch (error) {
      this.ctx.send({ type: 'event', workerId: this.ctx.workerId, at: Date.now(), event: 'checkpointFailed', shardId: this.shardId, detail: describeError(error) });
    }
  }

  leaseLost(): void {}
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function readConfig(): WorkerProcessConfig {
  const raw = process.env[WORKER_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_CONFIG_ENV} is not set: this script is started by the demo orchestrator (dist/main.js)`);
  return JSON.parse(raw) as WorkerProcessConfig;
}

async function main(): Promise<void> {
  const config = readConfig();
  const { workerId } = config;
  const send = (message: WorkerMessage): void => {
    if (process.send && process.connected) {
      try {
        process.send(message);
      } catch {
        // the orchestrator is gone; the 'disconnect' handler stops us
      }
    }
  };
  const logger = pino({ level: config.logLevel, base: { workerId } }, pino.destination({ fd: 1, sync: true }));
  const journal = new JournalWriter(journalPath(config.journalDir, workerId));
  const ctx: ProcessContext = { workerId, journal, stats: new Map(), send };
  const target = { region: config.region };
  const kinesisClient = createLocalKinesisClient({ endpoint: config.kinesisEndpoint, ...target });
  const dynamoDbClient = createLocalDynamoDbClient({ endpoint: config.dynamoDbEndpoint, ...target });

  const worker = new Worker({
    applicationName: config.applicationName,
    streamName: config.streamName,
    processorFactory: (shardId) => new JournalingProcessor(shardId, ctx),
    kinesisClient,
    dynamoDbClient,
    initialPosition: 'TRIM_HORIZON',
    workerId,
    logger,
    metrics: { publisher: false },
    leases: { leaseDurationMs: config.leaseDurationMs, takerIntervalMs: config.takerIntervalMs },
    retrieval: { polling: { idleTimeBetweenReadsMs: config.idleTimeBetweenReadsMs } },
    shardSync: { intervalMs: config.shardSyncIntervalMs, parentPollIntervalMs: config.parentShardPollIntervalMs },
    processing: { shutdownTimeoutMs: config.shutdownTimeoutMs },
  });
  const now = Date.now;
  worker.on('leaseAcquired', ({ shardId }) => {
    const at = now();
    journal.append([{ type: 'lease', worker: workerId, shard: shardId, event: 'acquired', at }]);
    send({ type: 'event', workerId, at, event: 'leaseAcquired', shardId });
  });
  worker.on('leaseLost', ({ shardId, reason }) => {
    const at = now();
    journal.append([{ type: 'lease', worker: workerId, shard: shardId, event: 'lost', reason, at }]);
    send({ type: 'event', workerId, at, event: 'leaseLost', shardId, detail: reason });
  });
  worker.on('shardEnded', ({ shardId, childShardIds }) =>
    send({ type: 'event', workerId, at: now(), event: 'shardEnded', shardId, detail: childShardIds.join(',') }),
  );
  worker.on('processorError', ({ shardId, error }) => send({ type: 'event', workerId, at: now(), event: 'processorError', shardId, detail: describeError(error) }));
  worker.on('error', (error) => send({ type: 'event', workerId, at: now(), event: 'error', detail: describeError(error) }));

  const progress = (): void => {
    const shards: ShardProgress[] = [...ctx.stats].map(([shardId, s]) => ({ shardId, records: s.records, lagMs: s.lagMs }));
    send({ type: 'progress', workerId, at: now(), held: worker.heldShards(), shards });
  };
  const ticker = setInterval(progress, config.progressIntervalMs);

  let exiting = false;
  const stopAndExit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    // A hard deadline in case the graceful path hangs; unref'd so it never keeps us alive.
    setTimeout(() => process.exit(code === 0 ? 1 : code), config.shutdownTimeoutMs + 5_000).unref();
    worker
      .shutdown()
      .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
      .finally(() => {
        clearInterval(ticker);
        progress();
        journal.close();
        kinesisClient.destroy();
        dynamoDbClient.destroy();
        // Exit once the IPC channel has taken the last message (or at once without a channel).
        const exit = (): void => process.exit(code);
        if (process.send && process.connected) {
          try {
            process.send({ type: 'stopped', workerId, at: now() } satisfies WorkerMessage, undefined, {}, exit);
            return;
          } catch {
            // fall through
          }
        }
        exit();
      });
  };
  // The library helper runs worker.shutdown() on SIGTERM/SIGINT; we only add the exit.
  shutdownOnSignals(worker, { exit: false });
  process.on('SIGTERM', () => stopAndExit(0));
  process.on('SIGINT', () => stopAndExit(0));
  process.on('disconnect', () => stopAndExit(0));

  try {
    await worker.start();
  } catch (error) {
    send({ type: 'fatal', workerId, at: now(), detail: describeError(error) });
    logger.error({ err: error }, 'worker failed to start');
    stopAndExit(1);
    return;
  }
  send({ type: 'started', workerId, at: now() });
}

main().catch((error: unknown) => {
  process.stderr.write(`worker process failed: ${describeError(error)}\n`);
  process.exit(1);
});
